/* teardown.h — op teardown: unmount and remove a user's state under /run/jai (every jail, or one), and clean the
 * overlay work dirs left behind, as upstream's `jai -u` (docs: jai-behaviour.md §10). */
#ifndef JAI_TEARDOWN_H
#define JAI_TEARDOWN_H

#include "plan.h"

/* Never returns. Sends a `notice` record for each failed unmount or removal and each work-dir entry deleted,
 * then `exit 0` (everything done) or `exit 1` (something stayed: busy mounts…) and exits with that code. Exits 0
 * at once when /run/jai/<user> does not exist. */
_Noreturn void teardown_run(const struct plan *plan);

#endif
