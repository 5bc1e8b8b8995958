/* csvread.h - the CSV reader now lives in the core (src/core/csvread.h),
 * shared by the CLI and stratsim.series. */
#include "core/csvread.h"
