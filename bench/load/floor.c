/*
 * The kernel's floor under the agent: a single-threaded epoll server that answers every NOTIFY
 * with one constant set-var and does nothing else, so `bench/load/main.ts --agent-pid` against it
 * shows what the wake-up, the read and the write cost per decision on this machine, in any
 * language. Not part of the product; built by hand:
 *
 *   cc -O2 -o /tmp/spoa-floor bench/load/floor.c && /tmp/spoa-floor 12345
 *
 * Loopback only, TCP_NODELAY like the agent, one read and one write per wake-up. The AGENT-HELLO
 * and the ACK's action bytes are what src/spop/codec.ts encodes (tests/bench/floor-agent.test.ts
 * checks the replies with that codec).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* AGENT-HELLO: version "2.0", max-frame-size 16380, capabilities "pipelining". */
static const unsigned char AGENT_HELLO[] = {
    0, 0, 0, 64, 101, 0, 0, 0, 1, 0, 0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n', 8, 3, '2', '.', '0',
    14, 'm', 'a', 'x', '-', 'f', 'r', 'a', 'm', 'e', '-', 's', 'i', 'z', 'e', 3, 252, 240, 6,
    12, 'c', 'a', 'p', 'a', 'b', 'i', 'l', 'i', 't', 'i', 'e', 's', 8, 10,
    'p', 'i', 'p', 'e', 'l', 'i', 'n', 'i', 'n', 'g'};
/* One action: set-var sess ip_score int32 0. */
static const unsigned char ACK_ACTIONS[] = {1, 3, 1, 8, 'i', 'p', '_', 's', 'c', 'o', 'r', 'e', 2, 0};

enum { HELLO = 1, DISCONNECT = 2, NOTIFY = 3, ACK = 103, BUFFER = 65536 };

struct connection {
  int fd;
  int held;
  unsigned char in[BUFFER];
};

/* Offset after the varint at `p` (SPOP varints: one byte below 240, else continuation bytes). */
static int varint_end(const unsigned char *b, int p) {
  if (b[p] < 240) return p + 1;
  for (p++; b[p] >= 128; p++) {}
  return p + 1;
}

/* Answers the complete frames held by `c` into `out`; returns the reply length, -1 to close. */
static int answer(struct connection *c, unsigned char *out) {
  int at = 0, o = 0, closing = 0;
  while (c->held - at >= 4) {
    const unsigned char *f = c->in + at;
    int length = (f[0] << 24) | (f[1] << 16) | (f[2] << 8) | f[3];
    if (length < 0 || length > BUFFER - 4) return -1;
    if (c->held - at - 4 < length) break;
    if (f[4] == NOTIFY) {
      int ids = varint_end(f, varint_end(f, 9)) - 9;
      int body = 5 + ids + (int)sizeof ACK_ACTIONS;
      unsigned char head[9] = {body >> 24, body >> 16, body >> 8, body, ACK, 0, 0, 0, 1};
      memcpy(out + o, head, 9);
      memcpy(out + o + 9, f + 9, ids);
      memcpy(out + o + 9 + ids, ACK_ACTIONS, sizeof ACK_ACTIONS);
      o += 9 + ids + (int)sizeof ACK_ACTIONS;
    } else if (f[4] == HELLO) {
      memcpy(out + o, AGENT_HELLO, sizeof AGENT_HELLO);
      o += (int)sizeof AGENT_HELLO;
    } else if (f[4] == DISCONNECT) {
      closing = 1;
    }
    at += 4 + length;
  }
  memmove(c->in, c->in + at, c->held - at);
  c->held -= at;
  if (o > 0 && write(c->fd, out, o) != o) return -1; /* replies are far below the socket buffer */
  return closing ? -1 : o;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int one = 1;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 128) != 0) return 1;
  int poller = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);
  static unsigned char out[4 * BUFFER];
  struct epoll_event ready[64];
  for (;;) {
    int n = epoll_wait(poller, ready, 64, -1);
    for (int i = 0; i < n; i++) {
      struct connection *c = ready[i].data.ptr;
      if (c == NULL) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c = calloc(1, sizeof *c);
        c->fd = fd;
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(poller, EPOLL_CTL_ADD, fd, &e);
        continue;
      }
      ssize_t r = read(c->fd, c->in + c->held, BUFFER - c->held);
      if (r > 0) c->held += (int)r;
      if (r <= 0 || answer(c, out) < 0) { /* EOF, error, DISCONNECT or a bad frame: just close */
        close(c->fd);
        free(c);
      }
    }
  }
}
