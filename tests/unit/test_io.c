/*
 * test_io.c - unit tests of the output layer (stratsim/io.h): round-trip
 * exact, locale-independent number formatting; CSV field quoting and the
 * formula-injection defence; long and wide CSV of a hand-built result;
 * atomic output files (commit, abort, failures, /dev/full); SHA-256 against
 * the FIPS 180-4 example vectors; the JSON sidecar parsed back with cJSON
 * with bit-exact numbers and key paths of non-finite values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "stratsim/io.h"
#include "stratsim/sim.h"

/* ---------------------------------------------------------------- helpers */

static uint64_t xs_state = 0x9E3779B97F4A7C15ull;

static uint64_t xorshift64(void)
{
    uint64_t x = xs_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return xs_state = x;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static void check_roundtrip(double x)
{
    char buf[64];
    int n = ss_fmt_double(buf, sizeof buf, x);
    assert_int_equal(n, (int)strlen(buf));
    assert_true(n > 0 && n <= 24);
    assert_null(strchr(buf, ','));
    double y = strtod(buf, NULL);
    if (!same_bits(x, y))
        fail_msg("%s does not read back as %a", buf, x);
}

static const char *fmt(double x)
{
    static char buf[64];
    ss_fmt_double(buf, sizeof buf, x);
    return buf;
}

/* Read a memstream's contents after fclose. */
typedef struct {
    char *data;
    size_t size;
    FILE *f;
} membuf;

static void mb_open(membuf *m)
{
    m->data = NULL;
    m->size = 0;
    m->f = open_memstream(&m->data, &m->size);
    assert_non_null(m->f);
}

static char *mb_close(membuf *m)
{
    assert_int_equal(fclose(m->f), 0);
    return m->data;
}

static char *csv_of(const char *s)
{
    membuf m;
    mb_open(&m);
    assert_int_equal(ss_csv_field(m.f, s), SS_OK);
    return mb_close(&m);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void make_tmpdir(char *tmpl, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpl, size, "%s/ss_test_io.XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpl));
}

/* ---------------------------------------------------------- ss_fmt_double */

static void test_fmt_roundtrip(void **state)
{
    (void)state;
    int tested = 0;
    while (tested < 100000) {
        uint64_t bits = xorshift64();
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x))
            continue;
        check_roundtrip(x);
        tested++;
    }
    /* Also ordinary-sized values, which random bit patterns rarely give. */
    for (int i = 0; i < 10000; i++)
        check_roundtrip((double)(xorshift64() >> 11) / 9007199254740992.0 * 1000.0);

    const double special[] = { 0.1, 1e23, DBL_MAX, DBL_MIN, 4.9e-324, -0.0, 0.0,
                               0.3, 1.0 / 3.0, 2023.75, -DBL_MAX, 5e-324 * 3,
                               9007199254740993.0, 123456789012345678.0 };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        check_roundtrip(special[i]);

    assert_string_equal(fmt(0.3), "0.3");
    assert_string_equal(fmt(0.1), "0.1");
    assert_string_equal(fmt(1e23), "1e+23");
    assert_string_equal(fmt(-0.0), "-0");
    assert_string_equal(fmt(0.0), "0");
    assert_string_equal(fmt(100.0), "100");
    assert_string_equal(fmt(2023.25), "2023.25");
    assert_string_equal(fmt(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(fmt(DBL_MAX), "1.7976931348623157e+308");
    assert_string_equal(fmt(4.9e-324), "4.94065645841247e-324");
    assert_string_equal(fmt(NAN), "nan");
    assert_string_equal(fmt(INFINITY), "inf");
    assert_string_equal(fmt(-INFINITY), "-inf");

    /* Truncation and the returned length follow snprintf. */
    char small[4];
    assert_int_equal(ss_fmt_double(small, sizeof small, 2023.25), 7);
    assert_string_equal(small, "202");
    assert_int_equal(ss_fmt_double(NULL, 0, 0.5), 3);
}

static void test_fmt_locale(void **state)
{
    (void)state;
    static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                         "de_DE", NULL };
    const char *got = NULL;
    for (int i = 0; names[i] != NULL && got == NULL; i++)
        if (setlocale(LC_NUMERIC, names[i]) != NULL)
            got = names[i]; /* setlocale's own string is overwritten by later calls */
    if (got != NULL) {
        char probe[16];
        snprintf(probe, sizeof probe, "%g", 0.5);
        assert_string_equal(probe, "0,5"); /* the locale really is active */
        assert_string_equal(fmt(0.5), "0.5");
        assert_string_equal(fmt(-1234.125), "-1234.125");
        assert_string_equal(fmt(0.1 + 0.2), "0.30000000000000004");
        assert_string_equal(fmt(1e-300), "1e-300");
        assert_string_equal(fmt(2.5e300), "2.5e+300");
        /* Values must still round-trip under the C locale. */
        char buf[64];
        double xs[] = { 0.1, 1.0 / 3.0, 2023.75, DBL_MIN, 4.9e-324 };
        setlocale(LC_NUMERIC, "C");
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            assert_non_null(setlocale(LC_NUMERIC, got));
            ss_fmt_double(buf, sizeof buf, xs[i]);
            setlocale(LC_NUMERIC, "C");
            assert_true(same_bits(strtod(buf, NULL), xs[i]));
        }
    }
    setlocale(LC_NUMERIC, "C");
    assert_string_equal(fmt(0.5), "0.5");
    assert_string_equal(fmt(-1234.125), "-1234.125");
}

/* ------------------------------------------------------------ CSV fields */

static void expect_field(const char *in, const char *want)
{
    char *got = csv_of(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_csv_field(void **state)
{
    (void)state;
    expect_field("plain", "plain");
    expect_field("", "");
    expect_field(NULL, "");
    expect_field("a,b", "\"a,b\"");
    expect_field("say \"hi\"", "\"say \"\"hi\"\"\"");
    expect_field("two\nlines", "\"two\nlines\"");
    expect_field("cr\rhere", "\"cr\rhere\"");
    expect_field(" lead", "\" lead\"");
    expect_field("trail ", "\"trail \"");
    expect_field("in side", "in side");
    expect_field("=1+2", "\"'=1+2\"");
    expect_field("+1", "\"'+1\"");
    expect_field("-1", "\"'-1\"");
    expect_field("@SUM(A1)", "\"'@SUM(A1)\"");
    expect_field("\tx", "\"'\tx\"");
    expect_field("\rx", "\"'\rx\"");
    expect_field("=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
    expect_field("a=b", "a=b");
    expect_field("ai-first", "ai-first");
}

/* ------------------------------------------------------------- CSV files */

static ss_result *small_result(const char *name, size_t nt, size_t nk)
{
    char *prov[] = { (char *)"ali" };
    char *seg[] = { (char *)"pub", (char *)"priv" };
    ss_result *r = ss_result_new(name, nt, 1, prov, nk, seg);
    assert_non_null(r);
    return r;
}

static void add_extra(ss_result *r, const char *name)
{
    r->nextra = 1;
    r->extra_names = malloc(sizeof *r->extra_names);
    assert_non_null(r->extra_names);
    r->extra_names[0] = strdup(name);
    r->extra = calloc(r->nt, sizeof *r->extra);
    assert_non_null(r->extra);
}

static void test_csv_long(void **state)
{
    (void)state;
    ss_result *r = small_result("base", 1, 2);
    add_extra(r, "margin_gap");
    r->t[0] = 2023.5;
    SS_RESULT_PS(r, 0, SS_PS_SHARE, 0, 0) = 0.3;
    SS_RESULT_PS(r, 0, SS_PS_SHARE, 0, 1) = 0.25;
    SS_RESULT_PS(r, 0, SS_PS_REVENUE, 0, 0) = 30;
    SS_RESULT_P(r, 0, SS_P_REVENUE, 0) = 0.1 + 0.2;
    SS_RESULT_P(r, 0, SS_P_NPV, 0) = -1.5;
    SS_RESULT_S(r, 0, SS_S_SIZE, 0) = 100;
    SS_RESULT_S(r, 0, SS_S_HHI, 1) = 1e-7;
    r->extra[0] = 1.0 / 3.0;

    const char *want =
        "scenario,time,provider,segment,metric,value\n"
        "base,2023.5,ali,pub,share,0.3\n"
        "base,2023.5,ali,pub,target_share,0\n"
        "base,2023.5,ali,pub,revenue,30\n"
        "base,2023.5,ali,pub,gross_margin,0\n"
        "base,2023.5,ali,pub,capability,0\n"
        "base,2023.5,ali,priv,share,0.25\n"
        "base,2023.5,ali,priv,target_share,0\n"
        "base,2023.5,ali,priv,revenue,0\n"
        "base,2023.5,ali,priv,gross_margin,0\n"
        "base,2023.5,ali,priv,capability,0\n"
        "base,2023.5,ali,,revenue,0.30000000000000004\n"
        "base,2023.5,ali,,gross_profit,0\n"
        "base,2023.5,ali,,operating_profit,0\n"
        "base,2023.5,ali,,investment,0\n"
        "base,2023.5,ali,,reliability,0\n"
        "base,2023.5,ali,,npv,-1.5\n"
        "base,2023.5,,pub,size,100\n"
        "base,2023.5,,pub,hhi,0\n"
        "base,2023.5,,priv,size,0\n"
        "base,2023.5,,priv,hhi,1e-07\n"
        "base,2023.5,,,margin_gap,0.3333333333333333\n";

    membuf m;
    ss_err err = { 0 };
    const ss_result *rs[] = { r };
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_LONG, rs, 1, &err), SS_OK);
    char *got = mb_close(&m);
    assert_string_equal(got, want);
    free(got);

    /* No results: header only. */
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_LONG, NULL, 0, &err), SS_OK);
    got = mb_close(&m);
    assert_string_equal(got, "scenario,time,provider,segment,metric,value\n");
    free(got);
    ss_result_free(r);
}

static void test_csv_wide(void **state)
{
    (void)state;
    ss_result *a = small_result("a \"q\"", 2, 1);
    ss_result *b = small_result("=x", 1, 1);
    a->t[0] = 2024;
    a->t[1] = 2024.25;
    SS_RESULT_PS(a, 0, SS_PS_SHARE, 0, 0) = 0.5;
    SS_RESULT_PS(a, 1, SS_PS_CAPABILITY, 0, 0) = 12.75;
    SS_RESULT_P(a, 1, SS_P_RELIABILITY, 0) = 0.9;
    SS_RESULT_S(a, 0, SS_S_HHI, 0) = 1;
    SS_RESULT_S(a, 1, SS_S_SIZE, 0) = 1e6;
    b->t[0] = 2030;
    SS_RESULT_P(b, 0, SS_P_NPV, 0) = -2e-5;

    const char *want =
        "scenario,time,share.ali.pub,target_share.ali.pub,revenue.ali.pub,"
        "gross_margin.ali.pub,capability.ali.pub,revenue.ali,gross_profit.ali,"
        "operating_profit.ali,investment.ali,reliability.ali,npv.ali,size.pub,hhi.pub\n"
        "\"a \"\"q\"\"\",2024,0.5,0,0,0,0,0,0,0,0,0,0,0,1\n"
        "\"a \"\"q\"\"\",2024.25,0,0,0,0,12.75,0,0,0,0,0.9,0,1000000,0\n"
        "\"'=x\",2030,0,0,0,0,0,0,0,0,0,0,-2e-05,0,0\n";

    membuf m;
    ss_err err = { 0 };
    const ss_result *rs[] = { a, b };
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_WIDE, rs, 2, &err), SS_OK);
    char *got = mb_close(&m);
    assert_string_equal(got, want);
    free(got);

    /* Derived metrics become columns after the built-in ones. */
    ss_result *c = small_result("c", 1, 1);
    add_extra(c, "gap");
    c->t[0] = 1;
    c->extra[0] = 0.25;
    const ss_result *rc1[] = { c };
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_WIDE, rc1, 1, &err), SS_OK);
    got = mb_close(&m);
    assert_non_null(strstr(got, ",size.pub,hhi.pub,gap\n"));
    assert_non_null(strstr(got, "\nc,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0.25\n"));
    free(got);

    /* Different columns cannot share a wide file. */
    ss_result *d = small_result("d", 1, 2);
    const ss_result *bad[] = { a, d };
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_WIDE, bad, 2, &err), SS_EINVAL);
    assert_int_equal(err.code, SS_EINVAL);
    free(mb_close(&m));
    const ss_result *bad2[] = { a, c };
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_WIDE, bad2, 2, &err), SS_EINVAL);
    free(mb_close(&m));
    /* ... but they can in the long layout. */
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_LONG, bad, 2, &err), SS_OK);
    free(mb_close(&m));

    ss_result_free(a);
    ss_result_free(b);
    ss_result_free(c);
    ss_result_free(d);
}

/* The rows of ss_csv_write_long_rows (scenario and time formatted once per
 * time) are those of ss_csv_write, led by the lead: with a scenario name
 * that needs quoting, two output times and a derived metric. */
static void test_csv_long_rows_lead(void **state)
{
    (void)state;
    ss_result *r = small_result("q,\"x\"", 2, 2);
    const ss_result *rs[] = { r };
    membuf m;
    ss_err err = { 0 };
    char *whole, *led, *p, *q;
    size_t lines = 0;
    add_extra(r, "=gap");
    r->t[0] = 2023.5;
    r->t[1] = 2024.0 + 1.0 / 3.0;
    SS_RESULT_PS(r, 1, SS_PS_SHARE, 0, 1) = 0.1 + 0.2;
    r->extra[1] = -2.5e-300;
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_LONG, rs, 1, &err), SS_OK);
    whole = mb_close(&m);
    mb_open(&m);
    assert_int_equal(ss_csv_write_long_rows(m.f, "0.1,\"a,b\",", r), SS_OK);
    led = mb_close(&m);
    p = strchr(whole, '\n') + 1; /* past the header */
    for (q = led; *p; lines++) {
        char *e = strchr(p, '\n');
        assert_non_null(e);
        assert_memory_equal(q, "0.1,\"a,b\",", 10);
        assert_memory_equal(q + 10, p, (size_t)(e - p + 1));
        q += 10 + (e - p + 1);
        p = e + 1;
    }
    assert_true(*q == '\0' && lines == 2 * (5 * 2 + 6 + 2 * 2 + 1));
    assert_non_null(strstr(whole, "\n\"q,\"\"x\"\"\",2024.3333333333333,ali,priv,share,0.30000000000000004\n"));
    assert_non_null(strstr(whole, ",,,\"'=gap\",-2.5e-300\n"));
    free(whole);
    free(led);
    ss_result_free(r);
}

/* ss_result_copy: every value, id, name and unit its own copy, written
 * the same; ss_result_like: the same shape and names, every value zero. */
static void test_result_copy(void **state)
{
    (void)state;
    ss_result *r = small_result("copy", 2, 2), *c, *z;
    const ss_result *rs[1];
    membuf m;
    ss_err err = { 0 };
    char *a, *b;
    size_t i;
    add_extra(r, "gap");
    r->extra_units = calloc(1, sizeof *r->extra_units);
    assert_non_null(r->extra_units);
    r->extra_units[0] = strdup("bn");
    r->t[0] = 2023.0;
    r->t[1] = 2024.5;
    for (i = 0; i < 2 * SS_NPS * 2; i++)
        r->ps[i] = 0.1 * (double)(i + 1);
    for (i = 0; i < 2 * SS_NP; i++)
        r->p[i] = -3.0 * (double)(i + 1);
    for (i = 0; i < 2 * SS_NS * 2; i++)
        r->s[i] = 7.0 + (double)i;
    r->extra[1] = 1.0 / 3.0;
    c = ss_result_copy(r);
    z = ss_result_like(r);
    assert_non_null(c);
    assert_non_null(z);
    rs[0] = r;
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_LONG, rs, 1, &err), SS_OK);
    a = mb_close(&m);
    rs[0] = c;
    mb_open(&m);
    assert_int_equal(ss_csv_write(m.f, SS_LAYOUT_LONG, rs, 1, &err), SS_OK);
    b = mb_close(&m);
    assert_string_equal(a, b);
    assert_true(c->extra_names[0] != r->extra_names[0] && c->extra_units[0] != r->extra_units[0] &&
                c->prov_ids[0] != r->prov_ids[0] && c->ps != r->ps);
    assert_string_equal(c->extra_units[0], "bn");
    assert_int_equal(z->nt, 2);
    assert_int_equal(z->nextra, 1);
    assert_string_equal(z->extra_names[0], "gap");
    assert_string_equal(z->extra_units[0], "bn");
    assert_true(z->t[1] == 2024.5);
    assert_true(SS_RESULT_PS(z, 1, SS_PS_SHARE, 0, 1) == 0.0 && SS_RESULT_P(z, 1, SS_P_NPV, 0) == 0.0 &&
                SS_RESULT_S(z, 1, SS_S_HHI, 1) == 0.0 && z->extra[1] == 0.0);
    free(a);
    free(b);
    ss_result_free(r);
    ss_result_free(c);
    ss_result_free(z);
}

static void test_csv_dev_full(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    ss_result *r = small_result("full", 3, 2);
    const ss_result *rs[] = { r };
    for (int unbuffered = 0; unbuffered <= 1; unbuffered++) {
        for (int layout = 0; layout <= 1; layout++) {
            FILE *f = fopen("/dev/full", "w");
            assert_non_null(f);
            if (unbuffered)
                setvbuf(f, NULL, _IONBF, 0);
            ss_err err = { 0 };
            assert_int_equal(ss_csv_write(f, (ss_layout)layout, rs, 1, &err), SS_EIO);
            assert_int_equal(err.code, SS_EIO);
            assert_true(strlen(err.msg) > 0);
            fclose(f);
        }
    }
    ss_result_free(r);
}

/* -------------------------------------------------------------- outfile */

static void test_outfile(void **state)
{
    (void)state;
    char dir[512], path[700], sub[600];
    ss_err err = { 0 };
    ss_outfile *o;

    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out.csv", dir);

    /* Abort leaves nothing behind. */
    assert_int_equal(ss_outfile_open(&o, path, &err), SS_OK);
    assert_non_null(ss_outfile_stream(o));
    assert_true(fputs("partial", ss_outfile_stream(o)) != EOF);
    assert_int_equal(count_entries(dir), 1); /* the temporary file */
    ss_outfile_abort(o);
    ss_outfile_abort(NULL);
    assert_int_equal(count_entries(dir), 0);
    assert_int_equal(access(path, F_OK), -1);

    /* Commit creates the file, no temporary file remains. */
    assert_int_equal(ss_outfile_open(&o, path, &err), SS_OK);
    assert_true(fputs("hello\nworld\n", ss_outfile_stream(o)) != EOF);
    assert_int_equal(ss_outfile_commit(o, &err), SS_OK);
    char *got = read_file(path);
    assert_string_equal(got, "hello\nworld\n");
    free(got);
    assert_int_equal(count_entries(dir), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t um = umask(022);
    umask(um);
    assert_int_equal(st.st_mode & 0777, 0666 & ~um);

    /* Commit replaces an existing file. */
    assert_int_equal(ss_outfile_open(&o, path, &err), SS_OK);
    assert_true(fputs("v2\n", ss_outfile_stream(o)) != EOF);
    assert_int_equal(ss_outfile_commit(o, &err), SS_OK);
    got = read_file(path);
    assert_string_equal(got, "v2\n");
    free(got);
    assert_int_equal(count_entries(dir), 1);

    /* A target in a directory that does not exist. */
    snprintf(sub, sizeof sub, "%s/no/such/dir/x.csv", dir);
    o = (ss_outfile *)&err; /* must be reset to NULL */
    assert_int_equal(ss_outfile_open(&o, sub, &err), SS_EIO);
    assert_null(o);
    assert_int_equal(err.code, SS_EIO);
    assert_non_null(strstr(err.msg, sub));

    /* The target is a directory: SS_EIO at once ("Is a directory"), no
     * temporary file. */
    snprintf(sub, sizeof sub, "%s/adir", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/x", sub);
    FILE *keep = fopen(path, "w"); /* make adir non-empty */
    assert_non_null(keep);
    fclose(keep);
    ss_err_clear(&err);
    assert_int_equal(ss_outfile_open(&o, sub, &err), SS_EIO);
    assert_null(o);
    assert_int_equal(err.code, SS_EIO);
    assert_non_null(strstr(err.msg, sub));
    assert_int_equal(count_entries(dir), 2); /* out.csv and adir only */

    /* A write that fails late (file size limit, like a full disk): the
     * error surfaces in commit's flush, and nothing is left behind. */
    struct rlimit old_lim, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old_lim;
    lim.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    snprintf(path, sizeof path, "%s/big.csv", dir);
    assert_int_equal(ss_outfile_open(&o, path, &err), SS_OK);
    for (int i = 0; i < 1000; i++)
        fputs("0123456789012345678901234567890123456789\n", ss_outfile_stream(o));
    ss_err_clear(&err);
    int big_rc = ss_outfile_commit(o, &err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
    signal(SIGXFSZ, old_sig);
    assert_int_equal(big_rc, SS_EIO);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(count_entries(dir), 2);
    snprintf(path, sizeof path, "%s/x", sub);

    /* Relative path: the temporary file goes to the current directory. */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    assert_int_equal(ss_outfile_open(&o, "rel.csv", &err), SS_OK);
    assert_true(fputs("r\n", ss_outfile_stream(o)) != EOF);
    assert_int_equal(ss_outfile_commit(o, &err), SS_OK);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(count_entries(dir), 3);

    /* Clean up. */
    unlink(path);
    rmdir(sub);
    snprintf(path, sizeof path, "%s/out.csv", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/rel.csv", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
}

/* --------------------------------------------------------------- sha256 */

static void test_sha256(void **state)
{
    (void)state;
    char hex[65];
    ss_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ss_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *v448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ss_sha256_hex(v448, strlen(v448), hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *v896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    ss_sha256_hex(v896, strlen(v896), hex);
    assert_string_equal(hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

    /* A file of one million 'a' (read in chunks). */
    char dir[512], path[600];
    ss_err err = { 0 };
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.txt", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 1000000; i++)
        assert_true(putc('a', f) != EOF);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(ss_sha256_file(path, hex, &err), SS_OK);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    unlink(path);
    assert_int_equal(ss_sha256_file(path, hex, &err), SS_EIO);
    assert_int_equal(err.code, SS_EIO);
    assert_non_null(strstr(err.msg, path));
    rmdir(dir);
}

/* -------------------------------------------------------------- sidecar */

static cJSON *jget(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL)
        fail_msg("missing key %s", key);
    return v;
}

static void assert_num(const cJSON *v, double want)
{
    assert_true(cJSON_IsNumber(v));
    if (!same_bits(v->valuedouble, want))
        fail_msg("%.17g != %.17g", v->valuedouble, want);
}

static ss_model *sample_model(void)
{
    ss_model *m = ss_model_new(2, 2);
    ss_err err = { 0 };
    assert_non_null(m);
    free(m->name);
    m->name = strdup("AI driven, \"public\" first");
    m->seg[0].id = strdup("public");
    m->seg[1].id = strdup("private");
    m->prov[0].id = strdup("alibaba");
    m->prov[1].id = strdup("others");
    m->prov[0].share[0] = 0.378;
    m->prov[1].share[0] = 1 - 0.378;
    m->prov[0].share[1] = 0.2;
    m->prov[1].share[1] = 0.8;
    m->t0 = 2021.75;
    m->t1 = 2028.0;
    m->step = 0.25;
    m->discount_rate = 0.08;
    m->seg[0].size = 0.1 + 0.2;
    m->seg[1].has_bass = 1;
    m->seg[1].bass_p = 0.03;
    m->seg[1].bass_q = 0.38;
    m->seg[1].bass_potential = 1e300;
    m->prov[0].fixed_cost = 4.9e-324;
    m->prov[1].capability[1] = DBL_MAX;
    m->prov[1].capability_given[1] = 1;
    const double kt[] = { 2023.0, 2024.5, 2025.0 };
    const double kv[] = { 0.2, 1.0 / 3.0, 0.1 };
    assert_int_equal(ss_schedule_set_knots(&m->seg[0].growth, SS_SCHED_STEPS, 3, kt, kv,
                                           "segments.public.growth", &err), SS_OK);
    assert_int_equal(ss_schedule_set_knots(&m->prov[0].reinvest, SS_SCHED_LINEAR, 2, kt, kv,
                                           "providers.alibaba.reinvest", &err), SS_OK);
    ss_event ev;
    memset(&ev, 0, sizeof ev);
    ev.t = 2023.87;
    ev.kind = SS_EV_OUTAGE;
    ev.provider = 0;
    ev.segment = -1;
    ev.amount = 0.1;
    ev.line = 12;
    assert_int_equal(ss_model_add_event(m, &ev, &err), SS_OK);
    double vals[2] = { 0.95, 0.0 };
    unsigned char mask[2] = { 1, 0 };
    memset(&ev, 0, sizeof ev);
    ev.t = 2024.0;
    ev.kind = SS_EV_SET;
    ev.provider = 1;
    ev.segment = -1;
    ev.field = SS_FIELD_PRICE;
    ev.values = vals;
    ev.mask = mask;
    assert_int_equal(ss_model_add_event(m, &ev, &err), SS_OK);
    memset(&ev, 0, sizeof ev);
    ev.t = 2025.5;
    ev.kind = SS_EV_MARKET;
    ev.provider = -1;
    ev.segment = 1;
    ev.amount = 0.7;
    assert_int_equal(ss_model_add_event(m, &ev, &err), SS_OK);
    memset(&ev, 0, sizeof ev);
    ev.t = 2026.0;
    ev.kind = SS_EV_SET;
    ev.provider = 0;
    ev.segment = -1;
    ev.field = SS_FIELD_REINVEST;
    ev.amount = 0.35;
    assert_int_equal(ss_model_add_event(m, &ev, &err), SS_OK);
    return m;
}

static char *sidecar_text(const ss_model *m, int *rc, ss_err *err)
{
    const char *ov[] = { "segments.public.growth=0.25", "x=\"y\"" };
    ss_sidecar_info info = { .command = "run",
                             .scenario_file = "scenarios/a b.lua",
                             .scenario_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                             .overrides = ov,
                             .noverrides = 2,
                             .layout = "long" };
    const ss_model *ms[] = { m, m };
    membuf mb;
    mb_open(&mb);
    *rc = ss_sidecar_write(mb.f, &info, ms, 2, err);
    return mb_close(&mb);
}

static void test_sidecar(void **state)
{
    (void)state;
    ss_model *m = sample_model();
    ss_err err = { 0 };
    int rc;
    char *text = sidecar_text(m, &rc, &err);
    if (rc != SS_OK)
        fail_msg("sidecar: %s", err.msg);
    size_t len = strlen(text);
    assert_true(len > 2 && text[len - 1] == '\n');
    /* Exact decimal text, not cJSON's 15 digits. */
    assert_non_null(strstr(text, "0.30000000000000004"));
    assert_non_null(strstr(text, "1.7976931348623157e+308"));

    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    assert_string_equal(jget(root, "stratsim_version")->valuestring, ss_version());
    assert_string_equal(jget(root, "created_by")->valuestring, "stratsim");
    assert_string_equal(jget(root, "command")->valuestring, "run");
    assert_string_equal(jget(root, "scenario_file")->valuestring, "scenarios/a b.lua");
    assert_int_equal(strlen(jget(root, "scenario_sha256")->valuestring), 64);
    cJSON *ov = jget(root, "overrides");
    assert_int_equal(cJSON_GetArraySize(ov), 2);
    assert_string_equal(cJSON_GetArrayItem(ov, 1)->valuestring, "x=\"y\"");
    assert_string_equal(jget(root, "layout")->valuestring, "long");
    assert_true(cJSON_IsFalse(jget(root, "unsafe")));

    cJSON *scs = jget(root, "scenarios");
    assert_int_equal(cJSON_GetArraySize(scs), 2);
    cJSON *s = cJSON_GetArrayItem(scs, 0);
    assert_string_equal(jget(s, "name")->valuestring, m->name);
    cJSON *t = jget(s, "time");
    assert_num(jget(t, "start"), 2021.75);
    assert_num(jget(t, "stop"), 2028.0);
    assert_num(jget(t, "step"), 0.25);
    assert_num(jget(t, "epoch"), m->epoch);
    assert_num(jget(s, "discount_rate"), 0.08);
    cJSON *sv = jget(s, "solver");
    assert_string_equal(jget(sv, "method")->valuestring, ss_solver_name(m->solver.method));
    assert_num(jget(sv, "rtol"), m->solver.rtol);
    assert_num(jget(sv, "atol"), m->solver.atol);
    assert_num(jget(sv, "h"), m->solver.h);
    assert_num(jget(sv, "hmin"), m->solver.hmin);
    assert_num(jget(sv, "max_steps"), (double)m->solver.max_steps);

    /* Segments. */
    cJSON *segs = jget(s, "segments");
    assert_int_equal(cJSON_GetArraySize(segs), 2);
    cJSON *pub = cJSON_GetArrayItem(segs, 0), *priv = cJSON_GetArrayItem(segs, 1);
    assert_string_equal(jget(pub, "id")->valuestring, "public");
    assert_num(jget(pub, "size"), 0.1 + 0.2);
    cJSON *g = jget(pub, "growth");
    assert_string_equal(jget(g, "kind")->valuestring, "steps");
    cJSON *knots = jget(g, "knots");
    assert_int_equal(cJSON_GetArraySize(knots), 3);
    assert_num(cJSON_GetArrayItem(cJSON_GetArrayItem(knots, 1), 0), 2024.5);
    assert_num(cJSON_GetArrayItem(cJSON_GetArrayItem(knots, 1), 1), 1.0 / 3.0);
    assert_null(cJSON_GetObjectItemCaseSensitive(pub, "bass"));
    cJSON *bass = jget(priv, "bass");
    assert_num(jget(bass, "p"), 0.03);
    assert_num(jget(bass, "q"), 0.38);
    assert_num(jget(bass, "potential"), 1e300);
    const char *segf[] = { "tau", "beta_capability", "beta_price", "beta_reliability",
                           "learning", "efficiency", "depreciation" };
    const double segv[] = { m->seg[1].tau, m->seg[1].beta_capability, m->seg[1].beta_price,
                            m->seg[1].beta_reliability, m->seg[1].learning,
                            m->seg[1].efficiency, m->seg[1].depreciation };
    for (size_t i = 0; i < sizeof segf / sizeof segf[0]; i++)
        assert_num(jget(priv, segf[i]), segv[i]);
    g = jget(priv, "growth");
    assert_string_equal(jget(g, "kind")->valuestring, "const");
    assert_num(jget(g, "value"), m->seg[1].growth.value);

    /* Providers. */
    cJSON *provs = jget(s, "providers");
    assert_int_equal(cJSON_GetArraySize(provs), 2);
    cJSON *ali = cJSON_GetArrayItem(provs, 0), *oth = cJSON_GetArrayItem(provs, 1);
    assert_string_equal(jget(ali, "id")->valuestring, "alibaba");
    assert_num(jget(jget(ali, "share"), "public"), 0.378);
    assert_num(jget(jget(oth, "share"), "public"), 1 - 0.378);
    assert_num(jget(jget(oth, "margin"), "private"), m->prov[1].margin[1]);
    assert_num(jget(jget(oth, "opex"), "private"), m->prov[1].opex[1]);
    assert_num(jget(ali, "fixed_cost"), 4.9e-324);
    cJSON *re = jget(ali, "reinvest");
    assert_string_equal(jget(re, "kind")->valuestring, "linear");
    assert_int_equal(cJSON_GetArraySize(jget(re, "knots")), 2);
    re = jget(oth, "reinvest");
    assert_string_equal(jget(re, "kind")->valuestring, "const");
    assert_num(jget(re, "value"), m->prov[1].reinvest.value);
    assert_true(cJSON_IsBool(jget(ali, "allocation_given")));
    const char *schedf[] = { "allocation", "price", "participation", "lever" };
    for (size_t i = 0; i < 4; i++) {
        cJSON *o = jget(jget(oth, schedf[i]), "private");
        assert_non_null(jget(o, "kind"));
    }
    assert_num(jget(jget(jget(oth, "price"), "private"), "value"),
               m->prov[1].price[1].value);
    assert_num(jget(oth, "reliability"), m->prov[1].reliability);
    assert_num(jget(oth, "recovery"), m->prov[1].recovery);
    assert_num(jget(oth, "experience"), m->prov[1].experience);
    assert_num(jget(jget(oth, "capability"), "private"), DBL_MAX);
    assert_true(cJSON_IsTrue(jget(jget(oth, "capability_given"), "private")));
    assert_true(cJSON_IsFalse(jget(jget(oth, "capability_given"), "public")));
    assert_num(jget(jget(oth, "brand"), "public"), m->prov[1].brand[0]);
    assert_true(cJSON_IsBool(jget(jget(oth, "brand_given"), "public")));

    /* Events. */
    cJSON *evs = jget(s, "events");
    assert_int_equal(cJSON_GetArraySize(evs), 4);
    cJSON *e0 = cJSON_GetArrayItem(evs, 0);
    assert_string_equal(jget(e0, "kind")->valuestring, "outage");
    assert_string_equal(jget(e0, "provider")->valuestring, "alibaba");
    assert_num(jget(e0, "t"), 2023.87);
    assert_num(jget(e0, "severity"), 0.1);
    assert_num(jget(e0, "line"), 12);
    cJSON *e1 = cJSON_GetArrayItem(evs, 1);
    assert_string_equal(jget(e1, "kind")->valuestring, "set");
    assert_string_equal(jget(e1, "provider")->valuestring, "others");
    assert_string_equal(jget(e1, "field")->valuestring, "price");
    assert_num(jget(jget(e1, "value"), "public"), 0.95);
    assert_null(cJSON_GetObjectItemCaseSensitive(jget(e1, "value"), "private"));
    cJSON *e2 = cJSON_GetArrayItem(evs, 2);
    assert_string_equal(jget(e2, "kind")->valuestring, "market");
    assert_string_equal(jget(e2, "segment")->valuestring, "private");
    assert_num(jget(e2, "factor"), 0.7);
    cJSON *e3 = cJSON_GetArrayItem(evs, 3);
    assert_string_equal(jget(e3, "field")->valuestring, "reinvest");
    assert_num(jget(e3, "value"), 0.35);

    cJSON_Delete(root);
    free(text);

    /* Non-finite numbers are errors that name the key path. */
    m->seg[1].tau = NAN;
    ss_err_clear(&err);
    free(sidecar_text(m, &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_string_equal(err.path, "segments.private.tau");
    m->seg[1].tau = 2;
    m->prov[0].reinvest.v[1] = INFINITY;
    free(sidecar_text(m, &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_string_equal(err.path, "providers.alibaba.reinvest.knots[1]");
    m->prov[0].reinvest.v[1] = 0.5;
    m->prov[1].capability[0] = -INFINITY;
    free(sidecar_text(m, &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_string_equal(err.path, "providers.others.capability.public");
    m->prov[1].capability[0] = 1;
    m->ev[1].values[0] = NAN;
    free(sidecar_text(m, &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_string_equal(err.path, "events[1].value.public");
    m->ev[1].values[0] = 1;
    m->t1 = INFINITY;
    free(sidecar_text(m, &rc, &err));
    assert_int_equal(rc, SS_EINVAL);
    assert_string_equal(err.path, "time.stop");
    m->t1 = 2028;
    free(sidecar_text(m, &rc, &err));
    assert_int_equal(rc, SS_OK);

    /* Write errors are reported. */
    if (access("/dev/full", W_OK) == 0) {
        FILE *f = fopen("/dev/full", "w");
        const ss_model *ms[] = { m };
        assert_non_null(f);
        assert_int_equal(ss_sidecar_write(f, NULL, ms, 1, &err), SS_EIO);
        fclose(f);
    }
    ss_model_free(m);
}

/* The user stocks an analysis names (no results): one entry per stock in
 * order, null for a stock without a unit, and no "stocks" key without any. */
static void test_sidecar_stocks(void **state)
{
    (void)state;
    ss_model *m = sample_model();
    ss_err err = { 0 };
    const char *names[] = { "gpu", "talent" }, *units[] = { "EFLOPS", NULL };
    const ss_model *ms[] = { m };
    ss_run_opts ro = SS_RUN_OPTS_INIT;
    ss_sidecar_info info;
    membuf mb;
    char *text;
    cJSON *root, *st;
    memset(&info, 0, sizeof info);
    info.command = "sens";
    ro.nstock = 2;
    ro.stock_names = names;
    ro.stock_units = units;
    info.run_opts = &ro;
    mb_open(&mb);
    assert_int_equal(ss_sidecar_write(mb.f, &info, ms, 1, &err), SS_OK);
    text = mb_close(&mb);
    root = cJSON_Parse(text);
    assert_non_null(root);
    st = jget(root, "stocks");
    assert_int_equal(cJSON_GetArraySize(st), 2);
    assert_string_equal(jget(cJSON_GetArrayItem(st, 0), "scenario")->valuestring, m->name);
    assert_string_equal(jget(cJSON_GetArrayItem(st, 0), "id")->valuestring, "gpu");
    assert_string_equal(jget(cJSON_GetArrayItem(st, 0), "unit")->valuestring, "EFLOPS");
    assert_string_equal(jget(cJSON_GetArrayItem(st, 1), "id")->valuestring, "talent");
    assert_true(cJSON_IsNull(jget(cJSON_GetArrayItem(st, 1), "unit")));
    cJSON_Delete(root);
    free(text);
    ro.nstock = 0;
    mb_open(&mb);
    assert_int_equal(ss_sidecar_write(mb.f, &info, ms, 1, &err), SS_OK);
    text = mb_close(&mb);
    root = cJSON_Parse(text);
    assert_non_null(root);
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "stocks"));
    cJSON_Delete(root);
    free(text);
    ss_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_roundtrip),
        cmocka_unit_test(test_fmt_locale),
        cmocka_unit_test(test_csv_field),
        cmocka_unit_test(test_csv_long),
        cmocka_unit_test(test_csv_wide),
        cmocka_unit_test(test_csv_long_rows_lead),
        cmocka_unit_test(test_result_copy),
        cmocka_unit_test(test_csv_dev_full),
        cmocka_unit_test(test_outfile),
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_sidecar),
        cmocka_unit_test(test_sidecar_stocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
