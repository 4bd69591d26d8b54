/*
 * sim_harness.c: fork/exec of immich-sim for tests, its first line, and a
 * small libcurl client for requests and /__sim/stats lookups.
 */
#include "core/numparse.h"
#include "sim_harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIRST_LINE_TIMEOUT_MS 30000

/* Reads one line from fd within the timeout, byte by byte (no buffering
 * beyond the line, so the rest can still be read through a FILE *). */
static int read_line(int fd, char *line, size_t size)
{
    size_t n = 0;
    int waited = 0;

    while (n + 1 < size) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc = poll(&p, 1, 100);
        char c;
        ssize_t r;

        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            waited += 100;
            if (waited >= FIRST_LINE_TIMEOUT_MS)
                return -1;
            continue;
        }
        r = read(fd, &c, 1);
        if (r <= 0)
            return -1;
        if (c == '\n')
            break;
        line[n++] = c;
    }
    line[n] = '\0';
    return 0;
}

int sim_start_small(struct sim_proc *s, const char *key, const char *faults,
                    struct buf *err)
{
    const char *args[12] = {"--preset", "small",     "--seed",
                            "1",        "--latency", "off"};
    size_t n = 6;

    if (key) {
        args[n++] = "--api-key";
        args[n++] = key;
    }
    if (faults) {
        args[n++] = "--faults";
        args[n++] = faults;
    }
    args[n] = NULL;
    return sim_start(s, args, err);
}

int sim_start(struct sim_proc *s, const char *const *args, struct buf *err)
{
    const char *argv[64];
    char line[512];
    size_t n = 0;
    int fds[2];
    const char *p, *k;
    int64_t port;

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    argv[n++] = IMMICH_SIM_PATH;
    argv[n++] = "--port";
    argv[n++] = "0";
    /* deterministic unless args ask for more ("--profile real", "--jobs
     * delay=...", "--latency seed"...): later options win */
    argv[n++] = "--profile";
    argv[n++] = "test";
    while (args && *args && n < ARRAY_SIZE(argv) - 1)
        argv[n++] = *args++;
    argv[n] = NULL;
    if (pipe(fds) < 0) {
        buf_addf(err, "cannot start immich-sim: pipe: %s", strerror(errno));
        return -1;
    }
    s->pid = fork();
    if (s->pid < 0) {
        buf_addf(err, "cannot start immich-sim: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (s->pid == 0) {
        /* A test that fails before sim_stop() must not leave the
         * simulator running (it would hold CTest's output pipe open). */
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(127);
        (void)dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    if (read_line(fds[0], line, sizeof(line)) < 0) {
        buf_addstr(err, "immich-sim did not print its first line");
        close(fds[0]);
        (void)sim_stop(s);
        return -1;
    }
    s->out = fdopen(fds[0], "r");
    p = strstr(line, "http://127.0.0.1:");
    k = strstr(line, " api-key=");
    if (strncmp(line, "listening on ", 13) || !p || !k ||
        num_parse_i64(p + 17, (size_t)(k - p - 17), 1, 65535, &port) < 0 ||
        strlen(k + 9) >= sizeof(s->api_key)) {
        buf_addf(err, "unexpected first line from immich-sim: '%s'", line);
        (void)sim_stop(s);
        return -1;
    }
    s->port = (int)port;
    (void)snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
    (void)snprintf(s->api_key, sizeof(s->api_key), "%s", k + 9);
    return 0;
}

int sim_stop(struct sim_proc *s)
{
    int status = 0;

    if (s->pid > 0) {
        (void)kill(s->pid, SIGTERM);
        while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
            ;
        s->pid = -1;
    }
    if (s->out) {
        (void)fclose(s->out);
        s->out = NULL;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    buf_add(userp, data, size * nmemb);
    return size * nmemb;
}

struct header_capture {
    const char *name;
    struct buf *value;
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct header_capture *h = userp;
    size_t len = size * nmemb, nl = strlen(h->name);

    if (h->value && len > nl + 1 && !strncasecmp(data, h->name, nl) &&
        data[nl] == ':') {
        buf_reset(h->value);
        buf_add(h->value, data + nl + 1, len - nl - 1);
        buf_rtrim(h->value);
        while (h->value->len && h->value->buf[0] == ' ') {
            memmove(h->value->buf, h->value->buf + 1, h->value->len);
            h->value->len--;
        }
    }
    return len;
}

int sim_request_key(const struct sim_proc *s, const char *key,
                    const char *method, const char *path, const char *json_body,
                    struct buf *body, const char *header_name,
                    struct buf *header_value)
{
    struct curl_slist *hdrs = NULL;
    struct buf url = BUF_INIT, hk = BUF_INIT;
    struct header_capture hc = {header_name ? header_name : "", header_value};
    CURL *c = curl_easy_init();
    long status = -1;

    if (!c)
        return -1;
    buf_reset(body);
    if (header_value)
        buf_reset(header_value);
    buf_addf(&url, "%s%s", s->url, path);
    if (key) {
        buf_addf(&hk, "x-api-key: %s", key);
        hdrs = curl_slist_append(hdrs, hk.buf);
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    (void)curl_easy_setopt(c, CURLOPT_URL, url.buf);
    (void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    (void)curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    (void)curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    (void)curl_easy_setopt(c, CURLOPT_HEADERDATA, &hc);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    /* Like the tool: accept gzip, curl inflates (the simulator compresses
     * bodies of 1 KiB and more, as Immich does). */
    (void)curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    if (json_body)
        (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
    if (curl_easy_perform(c) == CURLE_OK)
        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    buf_release(&url);
    buf_release(&hk);
    return (int)status;
}

int sim_request(const struct sim_proc *s, const char *method, const char *path,
                const char *json_body, struct buf *body)
{
    return sim_request_key(s, s->api_key, method, path, json_body, body, NULL,
                           NULL);
}

static json_t *fetch_stats(const struct sim_proc *s)
{
    struct buf body = BUF_INIT;
    json_t *j = NULL;

    if (sim_request(s, "GET", "/__sim/stats", NULL, &body) == 200)
        j = json_loadb(body.buf, body.len, 0, NULL);
    buf_release(&body);
    return j;
}

long sim_stat_endpoint(const struct sim_proc *s, const char *endpoint)
{
    json_t *j = fetch_stats(s);
    long v;

    if (!j)
        return -1;
    v = (long)json_integer_value(
        json_object_get(json_object_get(j, "by_endpoint"), endpoint));
    json_decref(j);
    return v;
}

long sim_stat_long(const struct sim_proc *s, const char *path)
{
    json_t *j = fetch_stats(s), *cur;
    char key[128];
    const char *p = path;
    long v = -1;

    if (!j)
        return -1;
    cur = j;
    while (cur && *p) {
        size_t n = strcspn(p, ".");

        if (n >= sizeof(key))
            break;
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        p += n;
        if (*p == '.')
            p++;
    }
    if (cur && !*p && json_is_integer(cur))
        v = (long)json_integer_value(cur);
    json_decref(j);
    return v;
}

long sim_stat_writes(const struct sim_proc *s)
{
    return sim_stat_long(s, "writes");
}

int sim_reset_stats(const struct sim_proc *s)
{
    struct buf b = BUF_INIT;
    int st = sim_request(s, "POST", "/__sim/reset-stats", NULL, &b);

    buf_release(&b);
    return st == 200 ? 0 : -1;
}

pid_t sim_spawn_tool(const struct sim_proc *s, const char *bin,
                     const char *const *args, const char *out_path,
                     const char *err_path)
{
    return sim_spawn_tool_with(s, bin, args, out_path, err_path, NULL, NULL);
}

pid_t sim_spawn_tool_with(const struct sim_proc *s, const char *bin,
                          const char *const *args, const char *out_path,
                          const char *err_path, void (*child)(void *),
                          void *arg)
{
    struct buf url = BUF_INIT, key = BUF_INIT, asan = BUF_INIT, rt = BUF_INIT;
    const char *argv[32], *envp[6];
    size_t n = 0, m = 0;
    pid_t pid;

    buf_addf(&url, "IMMICH_URL=%s", s->url);
    buf_addf(&key, "IMMICH_API_KEY=%s", s->api_key);
    argv[n++] = bin;
    while (args && *args && n < ARRAY_SIZE(argv) - 1)
        argv[n++] = *args++;
    argv[n] = NULL;
    envp[m++] = url.buf;
    envp[m++] = key.buf;
    envp[m++] = "PATH=/usr/bin:/bin";
    if (getenv("ASAN_OPTIONS")) {
        buf_addf(&asan, "ASAN_OPTIONS=%s", getenv("ASAN_OPTIONS"));
        envp[m++] = asan.buf;
    }
    /* where the tool keeps its (server, user) locks: a test may give
     * two runs two "machines" */
    if (getenv("XDG_RUNTIME_DIR")) {
        buf_addf(&rt, "XDG_RUNTIME_DIR=%s", getenv("XDG_RUNTIME_DIR"));
        envp[m++] = rt.buf;
    }
    envp[m] = NULL;
    pid = fork();
    if (pid == 0) {
        if (!freopen(out_path ? out_path : "/dev/null", "w", stdout) ||
            !freopen(err_path ? err_path : "/dev/null", "w", stderr))
            _exit(127);
        if (child)
            child(arg);
        execve(bin, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    buf_release(&url);
    buf_release(&key);
    buf_release(&asan);
    buf_release(&rt);
    return pid;
}

int sim_wait_tool(pid_t pid)
{
    int status;

    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

int sim_listen_silent(char *url, size_t size)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        close(fd);
        return -1;
    }
    snprintf(url, size, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    return fd;
}
