/*
 * l_docs.c - stratsim._docs: one line of documentation for every function
 * and field of the Lua API, keyed by how it is written ("stratsim.scenario",
 * "scenario:run", "result:value", "view:share", "view.t"). The REPL's help()
 * reads it; docs/lua-api.md is the full reference, and a unit test checks
 * that every entry here is documented there. Each value starts with
 * the call's signature and what it returns, then ": " and what it does.
 * Other parts of the Lua layer add their entries to the same table after
 * ss_lua_open_docs() has created it (module.field "_docs").
 * Depends on nothing but Lua.
 */
#include <lauxlib.h>
#include "ss_lua.h"

static const char *const docs[][2] = {
    /* the module */
    {"stratsim.scenario", "stratsim.scenario{...} -> scenario: build and check a scenario from a table "
                          "(name, time, segments, providers, events, policy, outputs, ...)"},
    {"stratsim.steps", "stratsim.steps{{t, v}, ...} -> schedule: right-continuous step schedule (first value before the first knot)"},
    {"stratsim.linear", "stratsim.linear{{t, v}, ...} -> schedule: piecewise-linear schedule, flat outside its knots"},
    {"stratsim.series", "stratsim.series{file = \"data/x.csv\", time = \"time\", value = \"value\", kind = \"linear\"|\"steps\"} "
                        "-> schedule: knots read from a CSV file (relative to the calling file)"},
    {"stratsim.compare", "stratsim.compare{r1, r2, ...} -> string: results side by side at their last output time, "
                         "with differences from the first (as `stratsim compare`)"},
    {"stratsim.sparkline", "stratsim.sparkline(values) -> string: one block character per number, lowest to highest"},
    {"stratsim.include", "stratsim.include(file) -> value: run another scenario file (relative to this one) and return "
                         "what it returns (scenario scripts and the REPL)"},
    {"stratsim.version", "stratsim.version -> string: the stratsim version"},
    {"stratsim._docs", "stratsim._docs -> table: these one-line docs, keyed by API name"},
    /* scenarios */
    {"scenario:run", "scenario:run() -> result: run the scenario (with its policy and derived metrics) and return the result"},
    {"scenario:with", "scenario:with{...} -> scenario: a variant that states only what differs (deep merge; false removes a key)"},
    {"scenario.KEY", "scenario.KEY -> value: a copy of that part of the scenario as given (name, time, segments, providers, "
                     "events, policy, outputs, ...)"},
    {"policy", "policy = function(view) ... end: scenario key; called at every decision epoch (time.epoch, default the step) "
               "after the events at that time; reads the state and may view:set(...) schedules"},
    {"outputs", "outputs = {name = function(view) return number end, ...}: scenario key; derived metrics evaluated at every "
                "output time, columns in alphabetical order of their names"},
    /* schedules */
    {"schedule(t)", "schedule(t) -> number: the schedule's value at time t"},
    {"schedule.kind", "schedule.kind -> string: \"steps\" or \"linear\""},
    {"schedule.knots", "schedule.knots -> {{t, v}, ...}: a fresh copy of the knots"},
    {"#schedule", "#schedule -> integer: the number of knots"},
    /* results */
    {"result:value", "result:value(metric, provider, segment [, t]) -> number: the value at time t (nil: the last output "
                     "time; between output times: linear interpolation); give nil for an id that does not apply"},
    {"result:series", "result:series(metric, provider, segment) -> times, values: the whole series as two arrays"},
    {"result:times", "result:times() -> {t, ...}: the output times"},
    {"result:summary", "result:summary() -> string: the summary table `stratsim run` prints"},
    {"result:write_csv", "result:write_csv(path [, {layout = \"long\"|\"wide\"}]) -> true | nil, message: write CSV and "
                         "its JSON sidecar atomically (\"-\": CSV to stdout)"},
    {"result:plot", "result:plot(metric, provider, segment [, {width, height, ascii, title, with = {r2, ...}}]) -> string: "
                    "a terminal line chart; provider/segment may be arrays of ids"},
    {"result:name", "result:name() -> string: the scenario name"},
    {"result:providers", "result:providers() -> {id, ...}: provider ids in declaration order"},
    {"result:segments", "result:segments() -> {id, ...}: segment ids in declaration order"},
    {"result:metrics", "result:metrics() -> {name, ...}: built-in metric names, then the derived metrics"},
    /* views */
    {"view.t", "view.t -> number: the time of this call (t0 + n*epoch for a policy, an output time for a derived metric)"},
    {"view:share", "view:share(provider, segment) -> number: current market share"},
    {"view:target_share", "view:target_share(provider, segment) -> number: share the provider is moving towards"},
    {"view:revenue", "view:revenue(provider [, segment]) -> number: revenue per year, total or in one segment"},
    {"view:margin", "view:margin(provider, segment) -> number: current gross margin"},
    {"view:capability", "view:capability(provider, segment) -> number: current capability stock"},
    {"view:gross_profit", "view:gross_profit(provider) -> number: gross profit per year"},
    {"view:operating_profit", "view:operating_profit(provider) -> number: operating profit per year"},
    {"view:investment", "view:investment(provider) -> number: investment flow per year (reinvest * revenue)"},
    {"view:reliability", "view:reliability(provider) -> number: current reliability in (0, 1]"},
    {"view:npv", "view:npv(provider) -> number: discounted operating profit accumulated so far"},
    {"view:size", "view:size(segment) -> number: segment size (revenue per year of the whole market)"},
    {"view:hhi", "view:hhi(segment) -> number: Herfindahl-Hirschman index of the segment's shares"},
    {"view:set", "view:set(provider, field, value): from now on the schedule is constant, as a `set` event (reinvest: "
                 "number; allocation/price/participation/lever: number or {segment = v}); policies only"},
    {"view:get", "view:get(field, provider [, segment]) -> number: the schedule's current value (allocation before normalising)"},
    {"view:providers", "view:providers() -> {id, ...}: provider ids in declaration order"},
    {"view:segments", "view:segments() -> {id, ...}: segment ids in declaration order"},
    {"view:stock", "view:stock(id) -> number: a user stock's value (scenario key `stocks`) in the state the view describes"},
};

void ss_lua_open_docs(lua_State *L)
{
    size_t i, n = sizeof docs / sizeof docs[0];
    lua_createtable(L, 0, (int)n);
    for (i = 0; i < n; i++) {
        lua_pushstring(L, docs[i][1]);
        lua_setfield(L, -2, docs[i][0]);
    }
    lua_setfield(L, -2, "_docs");
}
