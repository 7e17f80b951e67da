/* What seccomp costs a process of its own, apart from rot13d: a session's
 * life (fork, read a line, write it back, exit, reap) over a socketpair,
 * 1,500 times a round, 8 rounds with the ways interleaved, median and best:
 *   unconfined;
 *   strict mode before the read (the static build's sessions, -i);
 *   strict mode after the write (the same calls, confined once done);
 *   a filter of read/write/exit/rt_sigreturn before the read (sessions
 *   under a filter already: the default build's, a service manager's).
 * Then what strict mode costs at each switch: a byte sent back and forth
 * to a child pinned to the same CPU, unconfined, strict, filtered.
 * `make bench-seccomp` builds and runs it; see README, "What confinement
 * costs". */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <time.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* rot13d's SESSION filter (src/sandbox.rs), x86_64. */
static struct sock_filter session[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_read, 4, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigreturn, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog prog = { sizeof session / sizeof session[0], session };

enum { UNCONFINED, STRICT, STRICT_AFTER, FILTER, WAYS };
static const char *name[WAYS] = { "unconfined", "strict mode before the read",
                                  "strict mode after the write", "filter before the read" };

/* Raw calls only from here on: strict mode allows read, write, exit. */
static void confine(int way) {
    if (way == STRICT || way == STRICT_AFTER) syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0);
    if (way == FILTER) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    enum { ROUNDS = 8, N = 1500, TRIPS = 20000 };
    static double took[WAYS][ROUNDS];
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    for (int round = 0; round < ROUNDS; round++)
        for (int way = 0; way < WAYS; way++) {
            double start = now_us();
            for (int i = 0; i < N; i++) {
                int sv[2];
                char buf[64];
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 1;
                pid_t p = fork();
                if (p == 0) {
                    close(sv[0]);
                    if (way != STRICT_AFTER) confine(way);
                    long k = syscall(SYS_read, sv[1], buf, sizeof buf);
                    syscall(SYS_write, sv[1], buf, k);
                    if (way == STRICT_AFTER) confine(way);
                    syscall(SYS_exit, 0);
                }
                close(sv[1]);
                if (write(sv[0], "hello\n", 6) != 6 || read(sv[0], buf, sizeof buf) != 6) return 1;
                close(sv[0]);
                waitpid(p, 0, 0);
            }
            took[way][round] = (now_us() - start) / N;
        }
    printf("a session's life (fork, read, write, exit, reap), us: median, best of %d rounds\n", ROUNDS);
    for (int way = 0; way < WAYS; way++) {
        qsort(took[way], ROUNDS, sizeof took[way][0], by_value);
        printf("  %-30s %6.1f %6.1f\n", name[way], (took[way][ROUNDS / 2 - 1] + took[way][ROUNDS / 2]) / 2, took[way][0]);
    }

    /* Both on CPU 0: every byte is a switch to the child and one back. */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
    printf("a byte to a child on the same CPU and back, us: best of %d rounds of %d\n", ROUNDS, TRIPS);
    int ways[] = { UNCONFINED, STRICT, FILTER };
    for (int w = 0; w < 3; w++) {
        double best = 1e9;
        for (int round = 0; round < ROUNDS; round++) {
            int sv[2];
            char b = 0;
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 1;
            pid_t p = fork();
            if (p == 0) {
                close(sv[0]);
                confine(ways[w]);
                while (syscall(SYS_read, sv[1], &b, 1) == 1) syscall(SYS_write, sv[1], &b, 1);
                syscall(SYS_exit, 0);
            }
            close(sv[1]);
            double start = now_us();
            for (int i = 0; i < TRIPS; i++)
                if (write(sv[0], &b, 1) != 1 || read(sv[0], &b, 1) != 1) return 1;
            double t = (now_us() - start) / TRIPS;
            close(sv[0]);
            waitpid(p, 0, 0);
            if (t < best) best = t;
        }
        printf("  %-30s %6.2f\n", name[ways[w]], best);
    }
    return 0;
}
