/* api_hint.c - talking-point hints for the today list. */
#include "taskpool/api_hint.h"

#include <stdio.h>
#include <string.h>

static int set(const char *s)
{
    return s != NULL && *s != '\0';
}

/* The usual next move per stage. */
static const char *stage_move(const char *stage)
{
    static const struct {
        const char *stage, *move;
    } t[] = {{"lead", "qualify: confirm budget, timeline and who decides"},
        {"qualified", "diagnose needs and book a demo"},
        {"demo", "follow up the demo with a tailored proposal"},
        {"proposal", "walk the decision maker through the proposal"},
        {"negotiation", "agree terms and the signing date"}};
    for (size_t i = 0; stage && i < sizeof t / sizeof t[0]; i++)
        if (strcmp(stage, t[i].stage) == 0) return t[i].move;
    return "agree the next step";
}

void api_hint_write(const api_hint_in *in, char *buf, size_t cap)
{
    if (cap == 0) return;
    if (set(in->next_step) && in->next_step_overdue)
        snprintf(buf, cap, "Overdue next step: %s", in->next_step);
    else if (set(in->concern))
        snprintf(buf, cap, "Address their concern: %s", in->concern);
    else if (!set(in->core_need))
        snprintf(buf, cap, "Ask what they most need; then %s", stage_move(in->stage));
    else
        snprintf(buf, cap, "Core need \"%s\": %s", in->core_need, stage_move(in->stage));
}
