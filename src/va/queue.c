/* queue.c - the VA's bounded in-memory queue: a binary min-heap on (due_at, arrival).
 * Not locked: va.c holds its mutex around every call. */
#include "va/va_internal.h"

#include <stdlib.h>
#include <string.h>

int
va_queue_init(struct va_queue *q, size_t cap)
{
    memset(q, 0, sizeof(*q));
    if (cap == 0)
        return CAIRN_ERR_INVAL;
    q->heap = calloc(cap, sizeof(*q->heap));
    if (q->heap == NULL)
        return CAIRN_ERR_NOMEM;
    q->cap = cap;
    return CAIRN_OK;
}

void
va_queue_cleanup(struct va_queue *q)
{
    free(q->heap);
    memset(q, 0, sizeof(*q));
}

static bool
item_before(const struct va_queue_item *a, const struct va_queue_item *b)
{
    if (a->job.due_at != b->job.due_at)
        return a->job.due_at < b->job.due_at;
    return a->seq < b->seq;
}

static void
item_swap(struct va_queue_item *a, struct va_queue_item *b)
{
    struct va_queue_item t = *a;

    *a = *b;
    *b = t;
}

bool
va_queue_has(const struct va_queue *q, const char *chall_id)
{
    /* Linear: the queue holds at most a few thousand hints and pushes are rare. */
    for (size_t i = 0; i < q->n; i++)
        if (strcmp(q->heap[i].job.chall_id, chall_id) == 0)
            return true;
    return false;
}

int
va_queue_push(struct va_queue *q, const struct st_va_job *job)
{
    size_t i;

    if (va_queue_has(q, job->chall_id))
        return CAIRN_ERR_CONFLICT;
    if (q->n >= q->cap)
        return CAIRN_ERR_BUSY;
    i = q->n++;
    q->heap[i].job = *job;
    q->heap[i].seq = q->next_seq++;
    while (i > 0 && item_before(&q->heap[i], &q->heap[(i - 1) / 2])) {
        item_swap(&q->heap[i], &q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return CAIRN_OK;
}

const struct st_va_job *
va_queue_peek(const struct va_queue *q)
{
    return q->n ? &q->heap[0].job : NULL;
}

int
va_queue_pop(struct va_queue *q, struct st_va_job *out)
{
    size_t i = 0;

    if (q->n == 0)
        return CAIRN_ERR_NOTFOUND;
    *out = q->heap[0].job;
    q->heap[0] = q->heap[--q->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < q->n && item_before(&q->heap[l], &q->heap[m]))
            m = l;
        if (r < q->n && item_before(&q->heap[r], &q->heap[m]))
            m = r;
        if (m == i)
            break;
        item_swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    return CAIRN_OK;
}
