/* api_hint.h - the talking-point hint of a priority customer on a rep's
 * today list, from the customer card and the deal (pure). */
#ifndef SP_TASKPOOL_API_HINT_H
#define SP_TASKPOOL_API_HINT_H

#include <stddef.h>

typedef struct api_hint_in {
    const char *stage; /* deal stage */
    const char *core_need; /* card; "" when unknown */
    const char *concern; /* card; "" when none */
    const char *next_step; /* deal; "" when none */
    int next_step_overdue; /* 1 when the next step's due date passed */
} api_hint_in;

/* Writes one short English hint into buf, the most urgent first: an
 * overdue next step, the open concern, an unknown core need (ask for it),
 * then the stage's usual move. Always NUL-terminates (truncating). */
void api_hint_write(const api_hint_in *in, char *buf, size_t cap);

#endif
