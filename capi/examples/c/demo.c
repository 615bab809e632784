/*
 * aadauth from C: evaluates demo cases, decodes their tokens, and drives the step API
 * (answering "need keys" / "need arm" from the case's "keys" / "arm" members, as a real
 * host would from HTTP), checking that the step API reaches the same output as
 * aadauth_evaluate.
 *
 *   demo [--repeat N] [--quiet] FILE
 *
 * FILE is demo/demo.json ({"cases": [{"name", "title", "input"}, ...]}) or a test vector
 * ({"name"?, "input", ...}). --repeat runs everything N times (for valgrind). Exits 1 on
 * any unexpected result.
 *
 * Build (from the workspace root, after `cargo build --release -p aadauth-capi`):
 *   gcc -Wall -Wextra -O2 -Icapi/include capi/examples/c/demo.c \
 *       -Ltarget/release -laadauth -Wl,-rpath,"$PWD/target/release" -o demo
 * or statically:
 *   gcc -Wall -Wextra -O2 -Icapi/include capi/examples/c/demo.c \
 *       target/release/libaadauth.a -lpthread -ldl -lm -o demo-static
 *
 * The JSON scanning below is the least a demo needs (no unescaping); a real host would use
 * its JSON library.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aadauth.h"

static int failures = 0;
static int quiet = 0;

static void say(const char *fmt, ...) {
    if (quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    failures++;
}

/* ---- a minimal JSON scanner over NUL-terminated text ---------------------------------- */

typedef struct {
    const char *p;
    size_t n;
} span;

static const span none = {NULL, 0};

static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

/* p at '"': returns the position after the closing quote, or NULL. */
static const char *skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : NULL;
}

/* Returns the position after the value at p, or NULL. */
static const char *skip_value(const char *p) {
    p = ws(p);
    if (*p == '"') return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                if (!(p = skip_string(p))) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *start = p;
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
    return p > start ? p : NULL;
}

/* Iterates an object's members: *pp starts at the object; key is the raw string content. */
static int next_member(const char **pp, span *key, span *val) {
    const char *p = ws(*pp);
    if (*p == '{' || *p == ',') p = ws(p + 1);
    if (*p != '"') return 0;
    const char *kend = skip_string(p);
    if (!kend) return 0;
    *key = (span){p + 1, (size_t)(kend - 1 - (p + 1))};
    p = ws(kend);
    if (*p != ':') return 0;
    p = ws(p + 1);
    const char *vend = skip_value(p);
    if (!vend) return 0;
    *val = (span){p, (size_t)(vend - p)};
    *pp = vend;
    return 1;
}

static span member(span obj, const char *name) {
    if (!obj.p || *ws(obj.p) != '{') return none;
    const char *p = obj.p;
    span k, v;
    while (next_member(&p, &k, &v))
        if (k.n == strlen(name) && memcmp(k.p, name, k.n) == 0) return v;
    return none;
}

static span element(span arr, int index) {
    if (!arr.p) return none;
    const char *p = ws(arr.p);
    if (*p != '[') return none;
    p = ws(p + 1);
    for (int i = 0; *p && *p != ']'; i++) {
        const char *end = skip_value(p);
        if (!end) return none;
        if (i == index) return (span){p, (size_t)(end - p)};
        p = ws(end);
        if (*p == ',') p = ws(p + 1);
    }
    return none;
}

static int is(span v, const char *text) { return v.p && v.n == strlen(text) && memcmp(v.p, text, v.n) == 0; }

/* A string member's raw content (no unescaping), malloc'd. */
static char *str(span v) {
    if (!v.p || *v.p != '"' || v.n < 2) return NULL;
    char *s = malloc(v.n - 1);
    memcpy(s, v.p + 1, v.n - 2);
    s[v.n - 2] = 0;
    return s;
}

/* ---- a growable buffer ---------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t n, cap;
} buf;

static void put(buf *b, const char *p, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }
static void putspan(buf *b, span v) { put(b, v.p, v.n); }

/* ---- the demo ------------------------------------------------------------------------- */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) put(&b, chunk, n);
    fclose(f);
    return b.s;
}

/* The output document inside an envelope `{"<member>":...}` (compact, as the library writes it). */
static span inner(const char *envelope, const char *member) {
    size_t m = strlen(member);
    size_t n = strlen(envelope);
    if (n < m + 5 || envelope[0] != '{' || envelope[1] != '"' || strncmp(envelope + 2, member, m) != 0 ||
        envelope[2 + m] != '"' || envelope[3 + m] != ':')
        return none;
    return (span){envelope + 4 + m, n - 5 - m};
}

/* The answer an HTTP adapter would give for `path`, from the input's ARM snapshot. */
static void arm_answer(buf *out, span arm, const char *path) {
    span k, v, found = none;
    const char *p = arm.p;
    if (p && *ws(p) == '{')
        while (next_member(&p, &k, &v))
            if (k.n == strlen(path) && strncasecmp(k.p, path, k.n) == 0) found = v;
    puts_(out, "{\"path\":\"");
    puts_(out, path);
    if (!found.p) {
        puts_(out, "\",\"status\":404}");
        return;
    }
    span err = member(found, "error");
    if (err.p && *err.p == '{') {
        span status = member(found, "status");
        puts_(out, "\",\"status\":");
        if (status.p) putspan(out, status); else puts_(out, "500");
        puts_(out, ",\"body\":{\"error\":");
        putspan(out, err);
        puts_(out, "}}");
        return;
    }
    puts_(out, "\",\"status\":200,\"body\":");
    putspan(out, found);
    puts_(out, "}");
}

/* Drives the step API; returns the `done` envelope (to free with aadauth_free), or NULL. */
static char *step_login(span input, int explore) {
    /* The start input: the evaluate input without "keys" and "arm". */
    buf start = {0};
    span k, v, keys = none, arm = none;
    const char *p = input.p;
    puts_(&start, explore ? "{\"explore\":true" : "{\"explore\":false");
    while (next_member(&p, &k, &v)) {
        if (k.n == 4 && memcmp(k.p, "keys", 4) == 0) { keys = v; continue; }
        if (k.n == 3 && memcmp(k.p, "arm", 3) == 0) { arm = v; continue; }
        puts_(&start, ",\"");
        put(&start, k.p, k.n);
        puts_(&start, "\":");
        putspan(&start, v);
    }
    puts_(&start, "}");
    AadauthLogin *login = aadauth_login_start(start.s);
    free(start.s);

    char *done = NULL;
    for (int round = 0; round < 32 && !done; round++) {
        char *step = aadauth_login_next(login);
        span need = member((span){step, strlen(step)}, "need");
        if (is(need, "\"keys\"")) {
            buf answer = {0};
            puts_(&answer, "{\"keys\":");
            if (keys.p) putspan(&answer, keys); else puts_(&answer, "null");
            puts_(&answer, "}");
            char *r = aadauth_login_provide_keys(login, answer.s);
            if (strcmp(r, "{\"ok\":null}") != 0) fail("provide_keys: %s", r);
            aadauth_free(r);
            free(answer.s);
            if (!explore) say("    step: need keys -> provided the key set\n");
        } else if (is(need, "\"arm\"")) {
            span requests = member((span){step, strlen(step)}, "requests");
            span req;
            for (int i = 0; (req = element(requests, i)).p; i++) {
                char *path = str(member(req, "path"));
                buf answer = {0};
                arm_answer(&answer, arm, path ? path : "");
                char *r = aadauth_login_provide_arm(login, answer.s);
                if (strcmp(r, "{\"ok\":null}") != 0) fail("provide_arm: %s", r);
                if (!explore)
                    say("    step: need arm %s -> %s\n", path ? path : "?",
                        strstr(answer.s, "\"status\":200") ? "200" : "not 200");
                aadauth_free(r);
                free(answer.s);
                free(path);
            }
        } else if (strncmp(step, "{\"done\":", 8) == 0) {
            done = step;
            step = NULL;
        } else {
            fail("login_next: %s", step);
            aadauth_free(step);
            break;
        }
        aadauth_free(step);
    }
    aadauth_login_free(login);
    return done;
}

static void run_case(const char *name, span input) {
    /* aadauth_evaluate takes a NUL-terminated string: copy the input out of the file. */
    char *text = malloc(input.n + 1);
    memcpy(text, input.p, input.n);
    text[input.n] = 0;
    span in = {text, input.n};

    char *result = aadauth_evaluate(text);
    span out = inner(result, "ok");
    if (!out.p) {
        fail("%s: evaluate: %s", name, result);
    } else {
        span allowed = member(out, "allowed"), status = member(out, "status"), error = member(out, "error");
        say("%s: allowed=%.*s status=%.*s", name, (int)allowed.n, allowed.p, (int)status.n, status.p);
        if (!is(error, "null")) say(" error=%.*s", (int)(error.n > 120 ? 120 : error.n), error.p);
        say("\n");
    }

    /* Decode the case's token, at the case's time. */
    char *jwt = str(member(member(in, "login"), "jwt"));
    span now = member(in, "now");
    if (jwt && *jwt) {
        char *decoded = aadauth_decode_token(jwt, now.p ? strtoll(now.p, NULL, 10) : AADAUTH_NO_TIME);
        span d = inner(decoded, "ok");
        if (!d.p) {
            say("    decode: %s\n", decoded);
        } else {
            span azure = member(d, "azure");
            span kind = member(azure, "principal_kind");
            span warnings = member(azure, "warnings");
            int nwarn = 0;
            while (element(warnings, nwarn).p) nwarn++;
            say("    decode: %.*s, %d warning(s)\n", (int)kind.n, kind.p, nwarn);
        }
        aadauth_free(decoded);
    }
    free(jwt);

    /* The step API, exploring: the same output as aadauth_evaluate, byte for byte. */
    char *done = step_login(in, 1);
    span d = done ? inner(done, "done") : none;
    if (!d.p || !out.p || d.n != out.n || memcmp(d.p, out.p, d.n) != 0)
        fail("%s: the step API output differs from evaluate", name);
    else
        say("    step API (explore): same output as aadauth_evaluate\n");
    aadauth_free(done);

    /* As a real login (no exploring): the same decision. */
    done = step_login(in, 0);
    d = done ? inner(done, "done") : none;
    const char *same[] = {"allowed", "status", "error"};
    for (int i = 0; i < 3; i++) {
        span a = member(d, same[i]), b = member(out, same[i]);
        if (!a.p || !b.p || a.n != b.n || memcmp(a.p, b.p, a.n) != 0)
            fail("%s: the step API decision (%s) differs from evaluate", name, same[i]);
    }
    aadauth_free(done);

    aadauth_free(result);
    free(text);
}

/* Error paths: every one is an error envelope, never a crash. */
static void run_errors(void) {
    struct {
        char *result;
        const char *code;
    } cases[] = {
        {aadauth_evaluate(NULL), "null_pointer"},
        {aadauth_evaluate(""), "input"},
        {aadauth_evaluate("{\"login\": {}}"), "input"},
        {aadauth_evaluate("{\"now\": \"\xff\"}"), "invalid_utf8"},
        {aadauth_decode_token("not a token", AADAUTH_NO_TIME), "input"},
        {aadauth_login_next(NULL), "null_pointer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        span error = member((span){cases[i].result, strlen(cases[i].result)}, "error");
        char *code = str(member(error, "code"));
        if (!code || strcmp(code, cases[i].code) != 0) fail("error case %zu: %s", i, cases[i].result);
        free(code);
        aadauth_free(cases[i].result);
    }
    AadauthLogin *login = aadauth_login_start("{\"now\": 1, \"keys\": {}}");
    char *r = aadauth_login_next(login);
    if (!strstr(r, "\"field\":\"keys\"")) fail("login_start with keys: %s", r);
    aadauth_free(r);
    aadauth_login_free(login);
    aadauth_free(NULL);
    aadauth_login_free(NULL);
}

int main(int argc, char **argv) {
    int repeat = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--quiet") == 0) quiet = 1;
        else path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: %s [--repeat N] [--quiet] demo.json|vector.json\n", argv[0]);
        return 2;
    }
    char *doc = read_file(path);
    if (!doc) {
        perror(path);
        return 2;
    }
    span root = {doc, strlen(doc)};
    say("aadauth %s\n", aadauth_version());
    for (int r = 0; r < repeat; r++) {
        span cases = member(root, "cases");
        if (cases.p) {
            span c;
            for (int i = 0; (c = element(cases, i)).p; i++) {
                char *name = str(member(c, "name"));
                run_case(name ? name : "?", member(c, "input"));
                free(name);
            }
        } else if (member(root, "input").p) {
            char *name = str(member(root, "name"));
            run_case(name ? name : path, member(root, "input"));
            free(name);
        } else {
            fprintf(stderr, "%s: no \"cases\" and no \"input\"\n", path);
            free(doc);
            return 2;
        }
        run_errors();
        quiet = 1;
    }
    free(doc);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("C demo: ok\n");
    return 0;
}
