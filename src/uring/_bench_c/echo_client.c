/* Closed-loop TCP echo load: N connections on one epoll thread, each sends a message of
 * `size` bytes and waits for all of it to come back before sending the next.
 * usage: echo_client HOST PORT CONNS SIZE SECONDS WARMUP
 * prints: requests=<n> seconds=<s> p50_us=<x> p99_us=<y> */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct { int fd; size_t sent, got; double t0; } conn_t;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: %s HOST PORT CONNS SIZE SECONDS WARMUP\n", argv[0]); return 2; }
    int nconn = atoi(argv[3]);
    size_t size = (size_t)atol(argv[4]);
    double seconds = atof(argv[5]), warmup = atof(argv[6]);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    char *out = malloc(size), *in = malloc(size > 65536 ? size : 65536);
    memset(out, 'x', size);
    conn_t *c = calloc(nconn, sizeof(conn_t));
    size_t lat_cap = 1 << 22, nlat = 0;
    float *lat = malloc(lat_cap * sizeof(float));
    int ep = epoll_create1(0);
    for (int i = 0; i < nconn; i++) {
        c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(c[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c[i].fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("connect"); return 1; }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
    }
    double start = now(), measure = start + warmup, end = measure + seconds;
    long requests = 0;
    for (int i = 0; i < nconn; i++) {
        c[i].t0 = now();
        c[i].sent = send(c[i].fd, out, size, MSG_NOSIGNAL);
    }
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        if (t >= end) break;
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            conn_t *x = &c[evs[k].data.u32];
            ssize_t r = recv(x->fd, in, size - x->got, 0);
            if (r <= 0) { if (r < 0 && errno == EAGAIN) continue; fprintf(stderr, "connection closed\n"); return 1; }
            x->got += r;
            if (x->sent < size) {   /* big messages: keep pushing what did not fit */
                ssize_t s = send(x->fd, out + x->sent, size - x->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (s > 0) x->sent += s;
            }
            if (x->got < size) continue;
            double t1 = now();
            if (x->t0 >= measure && t1 < end) {
                requests++;
                if (nlat < lat_cap) lat[nlat++] = (float)((t1 - x->t0) * 1e6);
            }
            x->got = 0;
            x->t0 = t1;
            x->sent = 0;
            ssize_t s = send(x->fd, out, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (s > 0) x->sent = s;
        }
        /* blocked sends of big messages progress as the server reads */
        for (int i = 0; size > 65536 && i < nconn; i++) {
            if (c[i].sent < size) {
                ssize_t s = send(c[i].fd, out + c[i].sent, size - c[i].sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (s > 0) c[i].sent += s;
            }
        }
    }
    qsort(lat, nlat, sizeof(float), cmp);
    printf("requests=%ld seconds=%.3f p50_us=%.1f p99_us=%.1f\n", requests, seconds,
           nlat ? lat[nlat / 2] : 0.0, nlat ? lat[(size_t)(nlat * 0.99)] : 0.0);
    for (int i = 0; i < nconn; i++) close(c[i].fd);
    return 0;
}
