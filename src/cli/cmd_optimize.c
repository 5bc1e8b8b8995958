/*
 * cmd_optimize.c - `stratsim optimize`: choose the controls of the
 * scenario's `optimize` table (parameter paths within bounds) to maximise
 * (or minimise) its objective - a selector such as "npv:alibaba" or a Lua
 * function(result) - subject to its constraints ("share:alibaba:public@2028
 * >= 0.25"), with Nelder-Mead and multi-start (ss_optimize_run). Prints the
 * best controls, the objective, each constraint's value and whether it
 * holds; -o writes them as CSV with the JSON sidecar. Flags override the
 * table's keys.
 * Reads the options into an ss_optimize_job (stratsim/analysis.h), which
 * runs and writes. Depends on cli_analysis.h and the core's optimize.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli_analysis.h"
#include "cli/cli_mpi.h"

static const char optimize_head[] =
    "Usage: stratsim optimize SCENARIO.lua [options]\n"
    "\n"
    "Choose the controls of the scenario's `optimize` table within their bounds\n"
    "to maximise its objective subject to its constraints:\n"
    "  optimize = {\n"
    "    objective = \"npv:alibaba\",     -- a selector, or function(result) ... end\n"
    "    controls = { [\"providers.alibaba.reinvest\"] = { lower = 0.1, upper = 0.4 } },\n"
    "    constraints = { \"share:alibaba:public@2028 >= 0.25\" },\n"
    "  },\n"
    "Nelder-Mead (gsl_multimin) on a sine transform of the box, constraints by a\n"
    "growing quadratic penalty, several starts (the current values, then a Sobol\n"
    "sequence over the box). Prints the best controls, the objective, and each\n"
    "constraint's value and whether it holds (an infeasible result is reported,\n"
    "exit status 0).\n"
    "\n"
    "Options:\n";

static const cli_opt_spec optimize_opts[] = {
    { CLI_OPT_VALUE, "--starts", 0, "N", "starting points (default 4, or optimize.starts)" },
    { CLI_OPT_VALUE, "--seed", 0, "S", "0: plain Sobol starts; else a random shift" },
    { CLI_OPT_VALUE, "--objective", 0, "SELECTOR",
      "replace the objective, e.g. share:alibaba:public@2028" },
    { CLI_OPT_TEXT, "--minimize, --maximize", 0, NULL, "the sense of the objective (default maximise)" },
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--minimize", 0, NULL, NULL },
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--maximize", 0, NULL, NULL },
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--minimise", 0, NULL, NULL },
    { CLI_OPT_SWITCH | CLI_OPT_HIDDEN, "--maximise", 0, NULL, NULL },
    { CLI_OPT_VALUE, "--control", 0, "PATH=LOWER,UPPER", "\nadd or replace a control (repeatable)" },
    { CLI_OPT_VALUE, "--constraint", 0, "TEXT",
      "add a constraint, e.g. 'npv:alibaba >= 10'\n"
      "(repeatable)" },
    { CLI_OPT_SWITCH, "--no-constraints", 0, NULL, "drop the scenario's constraints" },
    { CLI_OPT_VALUE, "--max-iter", 0, "N", "simplex iterations per round (default 400)" },
    { CLI_OPT_VALUE, "--output", 'o', "FILE",
      "CSV kind,name,value,initial,lower,upper,violation,\n"
      "holds and its JSON sidecar; '-': CSV to stdout;\n"
      "FILE.xlsx: an Excel workbook" },
    { CLI_OPT_VALUE, "--scenario", 0, "NAME", "the scenario to optimise (files returning several)" },
    { CLI_OPT_TEXT, "--set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,", 0, NULL, NULL },
    { CLI_OPT_TEXT, "--max-instructions N, --root DIR", 0, NULL, "as for run" },
    CLI_AN_COMMON_HIDDEN,
    { CLI_OPT_SWITCH, "--help", 'h', NULL, "show this help" },
    { 0, NULL, 0, NULL, NULL } /* end */
};

static void print_opt(const ss_opt_result *r, const ss_model *m, const char *objective,
                      int minimize)
{
    size_t i, w = ss_opt_label_width(r, 7);
    char b[4][48];
    printf("Optimisation: %s, %s %s over %zu control%s, %zu start%s, %zu run%s\n\n", m->name,
           minimize ? "minimise" : "maximise", objective, r->ncontrols, r->ncontrols == 1 ? "" : "s",
           r->nstarts, r->nstarts == 1 ? "" : "s", r->nevals, r->nevals == 1 ? "" : "s");
    printf("  %-*s %16s %16s   %s\n", (int)w, "control", "best", "initial", "bounds");
    for (i = 0; i < r->ncontrols; i++) {
        snprintf(b[3], sizeof b[3], "[%s, %s]", cli_num(b[0], sizeof b[0], r->lower[i], 6),
                 cli_num(b[1], sizeof b[1], r->upper[i], 6));
        printf("  %-*s %16s %16s   %s\n", (int)w, r->paths[i], cli_num(b[0], sizeof b[0], r->x[i], 10),
               cli_num(b[1], sizeof b[1], r->x0[i], 10), b[3]);
    }
    printf("\n  %-*s %16s %16s\n", (int)w, "objective", "best", "initial");
    printf("  %-*s %16s %16s\n", (int)w, objective, cli_num(b[0], sizeof b[0], r->objective, 10),
           cli_num(b[1], sizeof b[1], r->objective0, 10));
    if (r->nconstraints) {
        printf("\n  %-*s %16s %16s  %s\n", (int)w, "constraint", "value", "violation", "holds");
        for (i = 0; i < r->nconstraints; i++)
            printf("  %-*s %16s %16s  %s\n", (int)w, r->cons_text[i],
                   cli_num(b[0], sizeof b[0], r->cons_value[i], 10),
                   cli_num(b[1], sizeof b[1], r->cons_violation[i], 3), r->cons_holds[i] ? "yes" : "NO");
    }
    printf("\n  %s; the best start (%zu of %zu) %s\n",
           r->nconstraints == 0 ? "no constraints"
           : r->feasible ? "feasible: every constraint holds"
                         : "INFEASIBLE: no start satisfied every constraint (least violation shown)",
           r->best_start + 1, r->nstarts, r->converged ? "converged" : "did not converge");
    if (r->nfailed)
        printf("  %zu run%s failed and counted as worst (last: %s)\n", r->nfailed,
               r->nfailed == 1 ? "" : "s", r->last_failure);
    printf("\nApply with:");
    for (i = 0; i < r->ncontrols; i++) /* rounded as in the table above */
        printf(" --set %s=%s", r->paths[i], cli_num(b[0], sizeof b[0], r->x[i], 10));
    putchar('\n');
}

/* The options of the optimisation; flags override the optimize table. */
typedef struct optimize_args {
    const char *objective;
    const char **controls, **cons;
    size_t ncontrols, ncons;
    int minimize;              /* -1: the table's */
    int no_cons, has_seed;
    long starts;               /* -1: the table's */
    unsigned long seed;
    ss_opt_opts oo;
} optimize_args;

/* Append v to a repeatable option's list. */
static int add_string(const char ***v, size_t *n, const char *s)
{
    const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return cli_error("out of memory");
    *v = nv;
    nv[(*n)++] = s;
    return EXIT_OK;
}

static int optimize_apply(void *opts, const cli_opt_spec *o, const char *v)
{
    optimize_args *oa = opts;
    unsigned long long u;
    if (cli_opt_is(o, "--starts")) {
        if (!v || cli_parse_uint(v, 100000, &u) != 0 || u == 0)
            return cli_usage_error("optimize", "--starts needs an integer in 1..100000");
        oa->starts = (long)u;
    } else if (cli_opt_is(o, "--seed")) {
        if (!v || cli_parse_uint(v, (unsigned long)-1, &u) != 0)
            return cli_usage_error("optimize", "--seed needs a non-negative integer");
        oa->seed = (unsigned long)u;
        oa->has_seed = 1;
    } else if (cli_opt_is(o, "--objective")) {
        if (!v || !*v)
            return cli_usage_error("optimize", "--objective needs a selector, e.g. npv:alibaba");
        oa->objective = v;
    } else if (cli_opt_is(o, "--minimize") || cli_opt_is(o, "--minimise")) {
        oa->minimize = 1;
    } else if (cli_opt_is(o, "--maximize") || cli_opt_is(o, "--maximise")) {
        oa->minimize = 0;
    } else if (cli_opt_is(o, "--control")) {
        if (!v || !strchr(v, '=') || v[0] == '=')
            return cli_usage_error("optimize", "--control needs PATH=LOWER,UPPER");
        return add_string(&oa->controls, &oa->ncontrols, v);
    } else if (cli_opt_is(o, "--constraint")) {
        if (!v || !*v)
            return cli_usage_error("optimize", "--constraint needs 'SELECTOR >= VALUE' or "
                                   "'SELECTOR <= VALUE'");
        return add_string(&oa->cons, &oa->ncons, v);
    } else if (cli_opt_is(o, "--no-constraints")) {
        oa->no_cons = 1;
    } else if (cli_opt_is(o, "--max-iter")) {
        if (!v || cli_parse_uint(v, 10000000, &u) != 0 || u == 0)
            return cli_usage_error("optimize", "--max-iter needs a positive integer");
        oa->oo.max_iter = (size_t)u;
    } else {
        return CLI_AN_COMMON;
    }
    return EXIT_OK;
}

static const cli_an_verb optimize_verb = {
    "optimize", optimize_opts, optimize_head, NULL, optimize_apply
};

/* The state of one `stratsim optimize`. */
typedef struct optimize_cmd {
    cli_an_args a;
    optimize_args oa;
    cli_an_load ld;
    ss_optimize_job oj;
    ss_analysis *an;
    sl_objective *fn;
    ss_run_opts ro;
    cli_mpi_job job;
    const ss_model *m;
    char *json;
} optimize_cmd;

/* --objective: a selector with one value (an unknown id: exit 1). */
static int set_objective(optimize_cmd *c, const char *objective)
{
    ss_selector s;
    ss_err err = {0};
    if (ss_selector_parse(&s, objective, &err) == SS_OK &&
        ss_selector_validate(&s, c->m, &err) != SS_OK) /* an unknown id: exit 1 */
        return cli_error("--objective: %s", err.msg);
    if (ss_selector_parse(&s, objective, &err) != SS_OK ||
        (s.when == SS_SEL_EACH &&
         ss_err_set(&err, SS_EINVAL, "", "'%s': an objective needs one value, not @each", objective)))
        return cli_usage_error("optimize", "--objective: %s", err.msg);
    if (ss_analysis_set_objective(c->an, objective, &err) != SS_OK)
        return cli_error("out of memory");
    return EXIT_OK;
}

/* --control PATH=LOWER,UPPER */
static int set_control(optimize_cmd *c, const char *control)
{
    const char *eq = strchr(control, '=');
    char path[512], **items = NULL;
    size_t cnt = 0;
    double lo = 0, hi = 0;
    ss_err err = {0};
    int ok;
    snprintf(path, sizeof path, "%.*s", (int)(eq - control), control);
    if (cli_split_list(eq + 1, &items, &cnt) != 0)
        return cli_error("out of memory");
    ok = cnt == 2 && cli_parse_num(items[0], &lo) == 0 && cli_parse_num(items[1], &hi) == 0 && lo <= hi;
    ss_strings_free(items, cnt);
    if (!ok)
        return cli_usage_error("optimize", "--control %s: expected PATH=LOWER,UPPER with finite "
                               "LOWER <= UPPER", control);
    if (ss_analysis_check_path(c->m, path, "control", &err) != SS_OK)
        return cli_error("--control %s: %s", control, err.msg);
    if (ss_analysis_set_control(c->an, path, lo, hi, &err) != SS_OK)
        return cli_error("out of memory");
    return EXIT_OK;
}

/* --constraint TEXT (an unknown id: exit 1). */
static int add_constraint(optimize_cmd *c, const char *text)
{
    ss_constraint k;
    ss_err err = {0};
    if (ss_constraint_parse(&k, text, &err) != SS_OK)
        return cli_usage_error("optimize", "--constraint: %s", err.msg);
    if (ss_constraint_validate(&k, c->m, &err) != SS_OK) /* an unknown id: exit 1 */
        return cli_error("--constraint: %s", err.msg);
    if (ss_analysis_add_constraint(c->an, text, &err) != SS_OK)
        return cli_error("out of memory");
    return EXIT_OK;
}

/* Load the file and its optimize table, with the flags applied over it. */
static int optimize_load(optimize_cmd *c)
{
    const optimize_args *oa = &c->oa;
    size_t i;
    int rc;
    if ((rc = cli_mpi_begin(&c->job, c->a.file)) != EXIT_OK ||
        (rc = cli_an_load_file(&c->ld, &c->a, "optimize", 0)) != EXIT_OK)
        return rc;
    if (c->a.out) { /* no output may replace an input */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &c->a.c, c->ld.l, c->a.file);
        cli_io_add(&io, c->a.out, "-o", 1, 1);
        if ((rc = cli_io_check("optimize", &io)) != EXIT_OK)
            return rc;
    }
    c->m = cli_loaded_model(c->ld.l, c->ld.first);
    if ((rc = cli_an_inputs(&c->ld, c->ld.first, SS_AN_OPTIMIZE, &c->an)) != EXIT_OK)
        return rc;
    if (oa->objective && (rc = set_objective(c, oa->objective)) != EXIT_OK)
        return rc;
    if (oa->minimize >= 0)
        c->an->minimize = oa->minimize;
    for (i = 0; i < oa->ncontrols; i++)
        if ((rc = set_control(c, oa->controls[i])) != EXIT_OK)
            return rc;
    if (oa->no_cons)
        while (c->an->nconstraints)
            free(c->an->constraints[--c->an->nconstraints]);
    for (i = 0; i < oa->ncons; i++)
        if ((rc = add_constraint(c, oa->cons[i])) != EXIT_OK)
            return rc;
    return EXIT_OK;
}

/* Check the problem and fill in the job (an objective function: from Lua). */
static int optimize_job_setup(optimize_cmd *c)
{
    const ss_analysis *an = c->an;
    ss_err err = {0};
    if (!an->objective && !an->objective_fn)
        return cli_error("%s: scenario '%s' has no optimize.objective (set it in the scenario or "
                         "with --objective SELECTOR)", c->a.file, c->m->name);
    if (an->ncontrols == 0)
        return cli_error("%s: scenario '%s' has no optimize.controls (set them in the scenario or "
                         "with --control PATH=LOWER,UPPER)", c->a.file, c->m->name);
    if (an->ncontrols > SS_OPT_MAX_CONTROLS)
        return cli_error("%s: scenario '%s': at most %d controls (got %zu)", c->a.file, c->m->name,
                         SS_OPT_MAX_CONTROLS, an->ncontrols);
    c->oj.oo = c->oa.oo;
    ss_optimize_job_inputs(&c->oj, an);
    if (c->oa.starts > 0)
        c->oj.oo.starts = (size_t)c->oa.starts;
    if (c->oa.has_seed)
        c->oj.oo.seed = c->oa.seed;
    if (!an->objective) {
        if (ss_script_objective(cli_loaded_script(c->ld.l), c->ld.first, c->a.file, &c->fn, &err) != SS_OK)
            return cli_error("%s", err.msg);
        c->oj.fn = sl_objective_eval;
        c->oj.fn_payload = c->fn;
    }
    return EXIT_OK;
}

/* After the options: the optimisation, then -o and the table (rank 0). */
static int optimize_main(optimize_cmd *c)
{
    cli_progress prog;
    ss_err err = {0};
    int rc, st;
    if (!c->a.file)
        return cli_usage_error("optimize", "missing SCENARIO.lua");
    if ((rc = optimize_load(c)) != EXIT_OK || (rc = optimize_job_setup(c)) != EXIT_OK ||
        (rc = cli_an_run_opts(&c->ld, c->ld.first, c->a.file, &c->ro, 1)) != EXIT_OK)
        return rc;
    /* the warning once, from rank 0 (its runs are the same on every rank) */
    if (c->job.rank == 0 && (rc = cli_an_warn_inert_controls(c->a.file, c->m, c->an->controls,
                                                             c->an->ncontrols, &c->ro)) != EXIT_OK)
        return rc;
    cli_progress_init(&prog, c->m->name, "starts");
    st = ss_optimize_job_run(&c->oj, c->m, c->an, &c->ro, cli_progress_hook(&prog),
                             cli_mpi_transport(&c->job), &err);
    cli_progress_end(&prog);
    cli_sigint_end();
    if ((rc = cli_mpi_end(&c->job, st, &err, c->a.file, c->m, &prog)) != EXIT_OK || c->job.rank != 0)
        return rc; /* ranks other than 0 write nothing */
    if (!(c->json = ss_optimize_job_json(&c->oj)) || cli_mpi_sidecar_json(&c->job, &c->json) != 0)
        return cli_error("out of memory");
    if (c->a.out && (rc = cli_an_write(c->a.out, ss_optimize_job_write_csv, &c->oj, "optimize",
                                       &c->a, c->m, c->json, &c->ro)) != EXIT_OK)
        return rc;
    if (!c->a.out || strcmp(c->a.out, "-") != 0) {
        print_opt(c->oj.result, c->m, c->an->objective ? c->an->objective : "the objective function",
                  c->an->minimize == 1);
        if (fflush(stdout) != 0)
            return cli_error("writing standard output failed");
    }
    return EXIT_OK;
}

int cmd_optimize(int argc, char **argv)
{
    optimize_cmd c = { .oj = SS_OPTIMIZE_JOB_INIT };
    int rc;
    c.oa.oo = c.oj.oo;
    c.oa.minimize = -1;
    c.oa.starts = -1;
    cli_mpi_job_init(&c.job, "optimize");
    rc = cli_an_parse(&c.a, &optimize_verb, &c.oa, argc, argv);
    if (rc == CLI_AN_PARSED)
        rc = optimize_main(&c);
    rc = cli_mpi_finish(&c.job, rc);
    cli_sigint_end();
    ss_optimize_job_free(&c.oj);
    sl_objective_free(c.fn);
    ss_analysis_free(c.an);
    free(c.oa.controls);
    free(c.oa.cons);
    free(c.json);
    if (c.ld.l)
        cli_loaded_free(c.ld.l);
    cli_common_free(&c.a.c);
    return rc;
}
