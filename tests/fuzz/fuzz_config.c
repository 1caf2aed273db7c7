/* libFuzzer target: the tenant files an operator edits - score rules,
 * working-day calendar, routing rules, playbooks, goal templates and
 * tracking page rules. A bad file must be refused with a message, never
 * crash a service at start or on SIGHUP. The first byte picks the loader. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ingest/tracking.h"
#include "route/playbook.h"
#include "route/route_rules.h"
#include "score/calendar.h"
#include "score/rules.h"
#include "taskpool/goals_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    char err[512];
    switch (data[0] % 6) {
    case 0: {
        score_rules *r = NULL;
        if (score_rules_load_string(s, "score_rules.json", &r, err, sizeof err) == SP_OK && r == NULL)
            abort();
        score_rules_destroy(r);
        break;
    }
    case 1: {
        score_calendar *c = NULL;
        calendar_load_string(s, "calendar.json", &c, err, sizeof err);
        calendar_destroy(c);
        break;
    }
    case 2: {
        route_rules *r = NULL;
        route_rules_load_string(s, "route_rules.json", &r, err, sizeof err);
        route_rules_destroy(r);
        break;
    }
    case 3: {
        playbook_set *p = NULL;
        playbook_set_load_string(s, "playbooks.json", &p, err, sizeof err);
        playbook_set_destroy(p);
        break;
    }
    case 4: {
        goals_template *t = NULL;
        goals_template_parse("education.json", s, &t, err, sizeof err);
        goals_template_destroy(t);
        break;
    }
    default: {
        tracking_rules *t = NULL;
        if (tracking_rules_parse(s, strlen(s), "tracking.json", &t, err, sizeof err) == SP_OK) {
            int pc;
            const char *pid, *cid;
            tracking_rules_classify(t, "https://hengyuan.cn/compare/apex?x=1", &pc, &pid, &cid);
        }
        tracking_rules_destroy(t);
        break;
    }
    }
    free(s);
    return 0;
}
