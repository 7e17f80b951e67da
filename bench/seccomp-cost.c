/* What seccomp strict mode costs a process of its own, apart from rot13d:
 * a session's life (fork, read a line, write it back, exit, reap) over a
 * socketpair, 4,000 times each way, rounds interleaved:
 *   0: unconfined; 1: strict mode before the read; 2: after the write.
 * `make bench-seccomp` builds and runs it; see README, "What confinement
 * costs". */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include <time.h>

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(void) {
    const int n = 4000;
    for (int round = 0; round < 6; round++)
        for (int mode = 0; mode < 3; mode++) {
            double start = now_us();
            for (int i = 0; i < n; i++) {
                int sv[2];
                char buf[64];
                if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return 1;
                pid_t p = fork();
                if (p == 0) {
                    close(sv[0]);
                    /* Raw calls only: strict mode allows read, write, exit. */
                    if (mode == 1) syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0);
                    long k = syscall(SYS_read, sv[1], buf, sizeof buf);
                    syscall(SYS_write, sv[1], buf, k);
                    if (mode == 2) syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, 0);
                    syscall(SYS_exit, 0);
                }
                close(sv[1]);
                if (write(sv[0], "hello\n", 6) != 6 || read(sv[0], buf, sizeof buf) != 6) return 1;
                close(sv[0]);
                waitpid(p, 0, 0);
            }
            printf("round %d, %s: %.1f us a session\n", round + 1,
                   mode == 0 ? "unconfined" : mode == 1 ? "strict before the read" : "strict after the write",
                   (now_us() - start) / n);
        }
    return 0;
}
