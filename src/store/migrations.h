/* migrations.h - the embedded, numbered SQL migrations (generated from schema/sqlite/). */
#ifndef CAIRN_STORE_MIGRATIONS_H
#define CAIRN_STORE_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct store_migration store_migrations[];
extern const size_t store_migrations_count;

#endif
