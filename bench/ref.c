/* The C reference for `make bench`: what a careful C programmer writes in
 * the same model. One process per connection, 64 KiB reads, ROT13 by table,
 * one send per read (no line framing: it echoes whatever a read returned),
 * SIGCHLD reaped with waitpid(-1, WNOHANG), SIGPIPE ignored.
 * Usage: ref PORT (listens on 127.0.0.1). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char table[256];

static void reap(int sig) {
    int saved = errno;
    (void)sig;
    while (waitpid(-1, 0, WNOHANG) > 0)
        ;
    errno = saved;
}

static void serve(int fd) {
    static unsigned char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            buf[i] = table[buf[i]];
        for (ssize_t off = 0; off < n;) {
            ssize_t w = send(fd, buf + off, n - off, 0);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return;
            off += w;
        }
    }
}

int main(int argc, char **argv) {
    for (int c = 0; c < 256; c++)
        table[c] = (c >= 'a' && c <= 'z') ? (c - 'a' + 13) % 26 + 'a'
                 : (c >= 'A' && c <= 'Z') ? (c - 'A' + 13) % 26 + 'A' : c;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), on = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 50005)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1024) < 0)
        return 1;
    struct sigaction sa = {.sa_handler = reap, .sa_flags = SA_RESTART};
    sigaction(SIGCHLD, &sa, 0);
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = accept(lfd, 0, 0);
        if (fd < 0)
            continue;
        switch (fork()) {
        case 0:
            close(lfd);
            serve(fd);
            _exit(0);
        default:
            close(fd);
        }
    }
}
