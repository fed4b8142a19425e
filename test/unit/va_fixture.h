/* va_fixture.h - helpers shared by the VA unit tests that need a mock DNS server
 * (test/tools/mockdns.py run as a child, stopped by PID) and loopback listeners. static
 * inline, so a test file that uses only some of them builds warning-free. */
#ifndef CAIRN_TEST_VA_FIXTURE_H
#define CAIRN_TEST_VA_FIXTURE_H

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* Starts mockdns with argv (argv[0] = /usr/bin/python3, argv[1] = the script); returns its
 * pid and port, or -1. */
static inline pid_t
fixture_dns_start(char *const argv[], int *port)
{
    int pfd[2];
    char line[128];
    size_t n = 0;
    struct pollfd p;
    pid_t pid;

    if (pipe(pfd) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        close(pfd[0]);
        close(pfd[1]);
        execv("/usr/bin/python3", argv);
        _exit(127);
    }
    close(pfd[1]);
    p.fd = pfd[0];
    p.events = POLLIN;
    while (n + 1 < sizeof(line) && poll(&p, 1, 10000) == 1) {
        ssize_t r = read(pfd[0], line + n, 1);

        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(pfd[0]);
    if (sscanf(line, "mockdns listening on %d", port) != 1) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

static inline void
fixture_dns_stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* A socket bound to 127.0.0.1 on a free port (SOCK_STREAM or SOCK_DGRAM). */
static inline int
fixture_bind_loopback(int type, int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, type, 0);

    if (fd < 0)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

#endif
