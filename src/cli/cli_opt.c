/*
 * cli_opt.c - the option-spec parser, --help option lists and "did you
 * mean" for mistyped options (see cli_opt.h).
 */
#include <string.h>
#include <stdio.h>
#include "cli/cli.h"
#include "cli/cli_opt.h"
#include "stratsim/suggest.h"

void cli_opt_parser_init(cli_opt_parser *p, const cli_opt_spec *specs, int argc, char **argv)
{
    p->specs = specs;
    p->argc = argc;
    p->argv = argv;
    p->i = 1;
}

int cli_opt_is(const cli_opt_spec *spec, const char *name)
{
    return spec && strcmp(spec->name, name) == 0;
}

int cli_opt_next(cli_opt_parser *p, const cli_opt_spec **spec, const char **value)
{
    const char *a;
    const cli_opt_spec *s;
    *spec = NULL;
    *value = NULL;
    if (p->i >= p->argc)
        return CLI_OPT_DONE;
    a = p->argv[p->i++];
    if (a[0] != '-' || a[1] == '\0') {
        *value = a;
        return CLI_OPT_ARG;
    }
    for (s = p->specs; s->name; s++) {
        size_t n = strlen(s->name);
        int type = s->type & ~CLI_OPT_HIDDEN,
            exact = strcmp(a, s->name) == 0 || (s->alias && a[1] == s->alias && a[2] == '\0');
        if (type == CLI_OPT_TEXT)
            continue;
        if (exact) {
            *spec = s;
            if (type == CLI_OPT_SWITCH)
                return CLI_OPT_FOUND;
            if (p->i >= p->argc)
                return CLI_OPT_MISSING;
            *value = p->argv[p->i++];
            return CLI_OPT_FOUND;
        }
        if (type == CLI_OPT_VALUE && s->name[1] == '-' && strncmp(a, s->name, n) == 0 &&
            a[n] == '=') {
            *spec = s;
            *value = a + n + 1;
            return CLI_OPT_FOUND;
        }
    }
    *value = a;
    return CLI_OPT_UNKNOWN;
}

void cli_opt_help(FILE *f, const cli_opt_spec *specs, int col)
{
    const cli_opt_spec *s;
    for (s = specs; s->name; s++) {
        const char *h = s->help, *nl;
        int w = 2;
        if (s->type & CLI_OPT_HIDDEN)
            continue;
        fputs("  ", f);
        if (s->alias)
            w += fprintf(f, "-%c, ", s->alias);
        w += fprintf(f, "%s", s->name);
        if (s->value_name)
            w += fprintf(f, " %s", s->value_name);
        if (!h) { /* a line of names alone */
            fputc('\n', f);
            continue;
        }
        if (*h != '\n') /* (a help starting with a newline starts below the names) */
            fprintf(f, "%*s", w + 2 > col ? 2 : col - w, ""); /* names reaching col: 2 spaces */
        while ((nl = strchr(h, '\n')) != NULL) {
            fprintf(f, "%.*s\n%*s", (int)(nl - h), h, col, "");
            h = nl + 1;
        }
        fprintf(f, "%s\n", h);
    }
}

int cli_opt_unknown(const char *cmd, const char *arg, const cli_opt_spec *specs)
{
    const char *cands[64];
    char word[64], sug[128];
    size_t n = 0, len = strcspn(arg, "=");
    const cli_opt_spec *s;
    for (s = specs; s->name && n < sizeof cands / sizeof cands[0]; s++)
        if ((s->type & ~CLI_OPT_HIDDEN) != CLI_OPT_TEXT && s->name[1] == '-' && s->name[2])
            cands[n++] = s->name; /* long names only: a one-letter typo has no good guess */
    /* "--ouput=x.csv": the name before '=' */
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), arg);
    ss_suggest(word, cands, n, sug, sizeof sug);
    return cli_usage_error(cmd, "unknown option '%s'%s", arg, sug);
}

int cli_opt_usage(const char *head, const cli_opt_spec *specs, int col, const char *tail)
{
    if (head)
        fputs(head, stdout);
    cli_opt_help(stdout, specs, col);
    if (tail)
        fputs(tail, stdout);
    return cli_flush_stdout();
}
