/*
 * cleanup.c - no temporary file outlives a fatal signal. Every output is
 * written to a temporary file beside its target and renamed at the end
 * (src/core/outfile.c); if SIGINT, SIGTERM, SIGHUP or another signal whose
 * default action ends the process arrives meanwhile, the handler removes
 * every temporary file still open (ss_outfile_remove_temporaries: only
 * unlink(), async-signal-safe), restores the default action and raises the
 * signal again, so the process still ends as that signal says (exit status
 * 128 + N in a shell). A signal ignored when stratsim starts (nohup's
 * SIGHUP, a harness's SIGPIPE or SIGXFSZ) stays ignored. SIGKILL cannot be
 * caught, and crashes (SIGSEGV, SIGABRT, ...) are left to their default
 * action and the sanitizers: after those, a `.NAME.` file with six random characters may remain,
 * never a partial target. The verbs that stop gracefully on Ctrl-C (mc,
 * sens, calibrate, optimize: cli_sigint_begin) hand a second Ctrl-C here.
 */
#include <signal.h>
#include <string.h>
#include "cli/cli.h"

static const int fatal_signals[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2,
    SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,
};

void cli_fatal_signal(int sig)
{
    struct sigaction sa;
    ss_outfile_remove_temporaries();
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig); /* pending until the handler returns (the signal is blocked in it) */
}

void cli_fatal_signals_install(void)
{
    size_t i;
    for (i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = cli_fatal_signal;
        sigfillset(&sa.sa_mask); /* nothing else runs while files are removed */
        sigaction(fatal_signals[i], &sa, NULL);
    }
}
