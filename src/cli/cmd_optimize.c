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

static const char optimize_help[] =
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
    "Options:\n"
    "  --starts N                starting points (default 4, or optimize.starts)\n"
    "  --seed S                  0: plain Sobol starts; else a random shift\n"
    "  --objective SELECTOR      replace the objective, e.g. share:alibaba:public@2028\n"
    "  --minimize, --maximize    the sense of the objective (default maximise)\n"
    "  --control PATH=LOWER,UPPER\n"
    "                            add or replace a control (repeatable)\n"
    "  --constraint TEXT         add a constraint, e.g. 'npv:alibaba >= 10'\n"
    "                            (repeatable)\n"
    "  --no-constraints          drop the scenario's constraints\n"
    "  --max-iter N              simplex iterations per round (default 400)\n"
    "  -o, --output FILE         CSV kind,name,value,initial,lower,upper,violation,\n"
    "                            holds and its JSON sidecar; '-': CSV to stdout;\n"
    "                            FILE.xlsx: an Excel workbook\n"
    "  --scenario NAME           the scenario to optimise (files returning several)\n"
    "  --set PATH=VALUE, --params FILE.lua, --unsafe, --max-memory MIB,\n"
    "  --max-instructions N, --root DIR   as for run\n"
    "  -h, --help                show this help\n";

static void print_opt(const ss_opt_result *r, const ss_model *m, const char *objective,
                      int minimize)
{
    size_t i, w = 7;
    char b[4][48];
    for (i = 0; i < r->ncontrols; i++)
        if (strlen(r->paths[i]) > w)
            w = strlen(r->paths[i]);
    for (i = 0; i < r->nconstraints; i++)
        if (strlen(r->cons_text[i]) > w)
            w = strlen(r->cons_text[i]);
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

/* The options of this verb, for "did you mean" (cli_an_option adds the common ones). */
static const char *const optimize_options[] = {
    "--starts", "--seed", "--objective", "--minimize", "--maximize", "--control",
    "--constraint", "--no-constraints", "--max-iter", NULL
};

int cmd_optimize(int argc, char **argv)
{
    cli_an_args a;
    cli_an_load ld;
    const char *objective = NULL;
    const char **controls = NULL, **cons = NULL;
    size_t ncontrols = 0, ncons = 0, i;
    unsigned long long u;
    int rc = EXIT_OK, missing, st, minimize = -1, no_cons = 0;
    long starts = -1;
    unsigned long seed = 0;
    int has_seed = 0;
    ss_optimize_job oj = SS_OPTIMIZE_JOB_INIT;
    ss_opt_opts oo = oj.oo;
    cli_progress prog;
    ss_analysis *an = NULL;
    sl_objective *fn = NULL;
    ss_run_opts ro;
    ss_crn crn;
    ss_err err = {0};
    const ss_model *m;
    char *json = NULL;
    cli_mpi_job job;

    cli_mpi_job_init(&job, "optimize");
    memset(&a, 0, sizeof a);
    a.options = optimize_options;
    memset(&ld, 0, sizeof ld);
    for (i = 1; i < (size_t)argc; i++) {
        int k = (int)i;
        const char *arg = argv[i], *v;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(optimize_help, stdout);
            rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_ERROR;
            goto done;
        }
        if ((v = cli_opt_value("--starts", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, 100000, &u) != 0 || u == 0) {
                rc = cli_usage_error("optimize", "--starts needs an integer in 1..100000");
                goto done;
            }
            starts = (long)u;
        } else if ((v = cli_opt_value("--seed", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, (unsigned long)-1, &u) != 0) {
                rc = cli_usage_error("optimize", "--seed needs a non-negative integer");
                goto done;
            }
            seed = (unsigned long)u;
            has_seed = 1;
        } else if ((v = cli_opt_value("--objective", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || !*v) {
                rc = cli_usage_error("optimize", "--objective needs a selector, e.g. npv:alibaba");
                goto done;
            }
            objective = v;
        } else if (strcmp(arg, "--minimize") == 0 || strcmp(arg, "--minimise") == 0) {
            minimize = 1;
        } else if (strcmp(arg, "--maximize") == 0 || strcmp(arg, "--maximise") == 0) {
            minimize = 0;
        } else if ((v = cli_opt_value("--control", NULL, argc, argv, &k, &missing)) || missing) {
            const char **nc;
            if (missing || !strchr(v, '=') || v[0] == '=') {
                rc = cli_usage_error("optimize", "--control needs PATH=LOWER,UPPER");
                goto done;
            }
            if (!(nc = realloc(controls, (ncontrols + 1) * sizeof *nc))) {
                rc = cli_error("out of memory");
                goto done;
            }
            controls = nc;
            controls[ncontrols++] = v;
        } else if ((v = cli_opt_value("--constraint", NULL, argc, argv, &k, &missing)) || missing) {
            const char **nc;
            if (missing || !*v) {
                rc = cli_usage_error("optimize", "--constraint needs 'SELECTOR >= VALUE' or "
                                     "'SELECTOR <= VALUE'");
                goto done;
            }
            if (!(nc = realloc(cons, (ncons + 1) * sizeof *nc))) {
                rc = cli_error("out of memory");
                goto done;
            }
            cons = nc;
            cons[ncons++] = v;
        } else if (strcmp(arg, "--no-constraints") == 0) {
            no_cons = 1;
        } else if ((v = cli_opt_value("--max-iter", NULL, argc, argv, &k, &missing)) || missing) {
            if (missing || cli_parse_uint(v, 10000000, &u) != 0 || u == 0) {
                rc = cli_usage_error("optimize", "--max-iter needs a positive integer");
                goto done;
            }
            oo.max_iter = (size_t)u;
        } else if (cli_an_option(&a, "optimize", argc, argv, &k) < 0) {
            rc = EXIT_USAGE;
            goto done;
        }
        i = (size_t)k;
    }
    if (!a.file) {
        rc = cli_usage_error("optimize", "missing SCENARIO.lua");
        goto done;
    }
    if ((rc = cli_mpi_begin(&job, a.file)) != EXIT_OK)
        goto done;
    if ((rc = cli_an_load_file(&ld, &a, "optimize", 0)) != EXIT_OK)
        goto done;
    if (a.out) { /* no output may replace an input */
        cli_iolist io = { 0 };
        cli_io_add_inputs(&io, &a.c, ld.l, a.file);
        cli_io_add(&io, a.out, "-o", 1, 1);
        if ((rc = cli_io_check("optimize", &io)) != EXIT_OK)
            goto done;
    }
    m = cli_loaded_model(ld.l, ld.first);
    if ((rc = cli_an_inputs(&ld, ld.first, SS_AN_OPTIMIZE, &an)) != EXIT_OK)
        goto done;

    /* flags override the optimize table */
    if (objective) {
        ss_selector s;
        if (ss_selector_parse(&s, objective, &err) == SS_OK &&
            ss_selector_validate(&s, m, &err) != SS_OK) { /* an unknown id: exit 1 */
            rc = cli_error("--objective: %s", err.msg);
            goto done;
        }
        if (ss_selector_parse(&s, objective, &err) != SS_OK ||
            (s.when == SS_SEL_EACH &&
             ss_err_set(&err, SS_EINVAL, "", "'%s': an objective needs one value, not @each", objective))) {
            rc = cli_usage_error("optimize", "--objective: %s", err.msg);
            goto done;
        }
        if (ss_analysis_set_objective(an, objective, &err) != SS_OK) {
            rc = cli_error("out of memory");
            goto done;
        }
    }
    if (minimize >= 0)
        an->minimize = minimize;
    for (i = 0; i < ncontrols; i++) {
        const char *eq = strchr(controls[i], '=');
        char path[512], **items = NULL;
        size_t cnt = 0;
        double lo = 0, hi = 0;
        int ok;
        snprintf(path, sizeof path, "%.*s", (int)(eq - controls[i]), controls[i]);
        if (cli_split_list(eq + 1, &items, &cnt) != 0) {
            rc = cli_error("out of memory");
            goto done;
        }
        ok = cnt == 2 && cli_parse_num(items[0], &lo) == 0 && cli_parse_num(items[1], &hi) == 0 && lo <= hi;
        ss_strings_free(items, cnt);
        if (!ok) {
            rc = cli_usage_error("optimize", "--control %s: expected PATH=LOWER,UPPER with finite "
                                 "LOWER <= UPPER", controls[i]);
            goto done;
        }
        if (ss_analysis_check_path(m, path, "control", &err) != SS_OK) {
            rc = cli_error("--control %s: %s", controls[i], err.msg);
            goto done;
        }
        if (ss_analysis_set_control(an, path, lo, hi, &err) != SS_OK) {
            rc = cli_error("out of memory");
            goto done;
        }
    }
    if (no_cons)
        while (an->nconstraints)
            free(an->constraints[--an->nconstraints]);
    for (i = 0; i < ncons; i++) {
        ss_constraint c;
        if (ss_constraint_parse(&c, cons[i], &err) != SS_OK) {
            rc = cli_usage_error("optimize", "--constraint: %s", err.msg);
            goto done;
        }
        if (ss_constraint_validate(&c, m, &err) != SS_OK) { /* an unknown id: exit 1 */
            rc = cli_error("--constraint: %s", err.msg);
            goto done;
        }
        if (ss_analysis_add_constraint(an, cons[i], &err) != SS_OK) {
            rc = cli_error("out of memory");
            goto done;
        }
    }
    if (!an->objective && !an->objective_fn) {
        rc = cli_error("%s: scenario '%s' has no optimize.objective (set it in the scenario or "
                       "with --objective SELECTOR)", a.file, m->name);
        goto done;
    }
    if (an->ncontrols == 0) {
        rc = cli_error("%s: scenario '%s' has no optimize.controls (set them in the scenario or "
                       "with --control PATH=LOWER,UPPER)", a.file, m->name);
        goto done;
    }
    if (an->ncontrols > SS_OPT_MAX_CONTROLS) {
        rc = cli_error("%s: scenario '%s': at most %d controls (got %zu)", a.file, m->name,
                       SS_OPT_MAX_CONTROLS, an->ncontrols);
        goto done;
    }
    oj.oo = oo;
    ss_optimize_job_inputs(&oj, an);
    if (starts > 0)
        oj.oo.starts = (size_t)starts;
    if (has_seed)
        oj.oo.seed = seed;
    if (!an->objective) {
        if (ss_script_objective(cli_loaded_script(ld.l), ld.first, a.file, &fn, &err) != SS_OK) {
            rc = cli_error("%s", err.msg);
            goto done;
        }
        oj.fn = sl_objective_eval;
        oj.fn_payload = fn;
    }
    if ((rc = cli_an_run_opts(&ld, ld.first, a.file, &ro, &crn)) != EXIT_OK)
        goto done;
    /* the warning once, from rank 0 (its runs are the same on every rank) */
    if (job.rank == 0 &&
        (rc = cli_an_warn_inert_controls(a.file, m, an->controls, an->ncontrols, &ro)) != EXIT_OK)
        goto done;
    cli_progress_init(&prog, m->name, "starts");
    st = ss_optimize_job_run(&oj, m, an, &ro, cli_progress_hook(&prog), cli_mpi_transport(&job), &err);
    cli_progress_end(&prog);
    cli_sigint_end();
    if ((rc = cli_mpi_end(&job, st, &err, a.file, m, &prog)) != EXIT_OK || job.rank != 0)
        goto done; /* ranks other than 0 write nothing */
    if (!(json = ss_optimize_job_json(&oj)) || cli_mpi_sidecar_json(&job, &json) != 0) {
        rc = cli_error("out of memory");
        goto done;
    }
    if (a.out &&
        (rc = cli_an_write(a.out, ss_optimize_job_write_csv, &oj, "optimize", &a, &m, 1, json)) != EXIT_OK)
        goto done;
    if (!a.out || strcmp(a.out, "-") != 0) {
        print_opt(oj.result, m, an->objective ? an->objective : "the objective function",
                  an->minimize == 1);
        if (fflush(stdout) != 0)
            rc = cli_error("writing standard output failed");
    }
done:
    rc = cli_mpi_finish(&job, rc);
    cli_sigint_end();
    ss_optimize_job_free(&oj);
    sl_objective_free(fn);
    ss_analysis_free(an);
    free(controls);
    free(cons);
    free(json);
    if (ld.l)
        cli_loaded_free(ld.l);
    cli_common_free(&a.c);
    return rc;
}
