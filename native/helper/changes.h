/* changes.h — casual mode's changes summary: what the session changed in the jail's home, read from the overlay's
 * upper dir <storage>/<jail>.changes once the session ended. */
#ifndef JAI_CHANGES_H
#define JAI_CHANGES_H

#include <time.h>

#include "plan.h"

#define CHANGES_MAX_DEPTH 64         /* entries deeper than this below the changes dir are not visited */
#define CHANGES_MAX_VISITED 100000ul /* entries visited (changed or not) before the walk stops */
#define CHANGES_MAX_LISTED 20        /* `changed PATH` records */

/* Walks the tree below changes_fd (the held <jail>.changes fd, consumed) as the user and sends `changes N T` then up
 * to CHANGES_MAX_LISTED `changed PATH` records on the plan's status socket: N entries of any type whose ctime is at
 * or after start, T 1 when N is a lower bound (a cap was reached or part of the tree could not be read). Never
 * fatal: a walk that cannot start sends `changes 0 1`; problems are warnings on stderr only. */
void changes_report(const struct plan *plan, int changes_fd, const struct timespec *start);

#endif
