/* transition.c - the names of a transition's "how". No I/O. */
#include "transition.h"
#include "util.h"

static const char *const how_names[TRANSITION_HOW_MAX] = {
    [TRANSITION_HOW_INITIAL] = "initial",
    [TRANSITION_HOW_POLL] = "poll",
    [TRANSITION_HOW_DESTROY] = "destroy",
};

const char *transition_how_name(unsigned how)
{
	return util_name(how_names, TRANSITION_HOW_MAX, how, "unknown");
}
