/*
 * stratsim.h - umbrella header of the stratsim core library (libstratsim).
 * Programs include this one header; it never pulls in Lua.
 */
#ifndef STRATSIM_H
#define STRATSIM_H
#include "stratsim/error.h"
#include "stratsim/schedule.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"
#include "stratsim/io.h"
#include "stratsim/summary.h"
#include "stratsim/param.h"
#include "stratsim/dist.h"
#include "stratsim/sketch.h"
#include "stratsim/mc.h"
#include "stratsim/select.h"
#include "stratsim/sens.h"
#include "stratsim/calibrate.h"
#include "stratsim/optimize.h"
#include "stratsim/behaviour.h"
#include "stratsim/progress.h"
#include "stratsim/transport.h"
#include "stratsim/sweep.h"
#include "stratsim/analysis.h"
#endif
