/* Round trip of every event contract: build, pack, unpack, compare fields,
 * and pack again to identical bytes. Also checks that an unknown field from
 * a newer producer is skipped (forward compatibility). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "salespulse/v1/deadletter.pb-c.h"
#include "salespulse/v1/enriched.pb-c.h"
#include "salespulse/v1/interaction.pb-c.h"
#include "salespulse/v1/signal.pb-c.h"
#include "salespulse/v1/task.pb-c.h"

#include <stdlib.h>
#include <string.h>

#define ROUND_TRIP(type, prefix, msg, out)                                                                   \
    do {                                                                                                     \
        size_t n_ = prefix##__get_packed_size(msg);                                                          \
        uint8_t *b_ = malloc(n_);                                                                            \
        assert_int_equal(prefix##__pack(msg, b_), n_);                                                       \
        out = prefix##__unpack(NULL, n_, b_);                                                                \
        assert_non_null(out);                                                                                \
        size_t n2_ = prefix##__get_packed_size(out);                                                         \
        assert_int_equal(n2_, n_);                                                                           \
        uint8_t *b2_ = malloc(n2_);                                                                          \
        prefix##__pack(out, b2_);                                                                            \
        assert_memory_equal(b_, b2_, n_);                                                                    \
        free(b_);                                                                                            \
        free(b2_);                                                                                           \
    } while (0)

static Salespulse__V1__EventMeta meta(const char *id)
{
    Salespulse__V1__EventMeta m = SALESPULSE__V1__EVENT_META__INIT;
    m.event_id = (char *)id;
    m.occurred_at_ms = 1772417700000;
    m.produced_at_ms = 1772417700123;
    m.producer = "test";
    m.trace_id = "tr-1";
    m.schema_version = 1;
    m.tenant_id = "hengyuan";
    return m;
}

static void test_interaction_call_and_activity(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta m = meta("ix-1");
    Salespulse__V1__Interaction ix = SALESPULSE__V1__INTERACTION__INIT;
    Salespulse__V1__Identity id = SALESPULSE__V1__IDENTITY__INIT;
    Salespulse__V1__Turn t1 = SALESPULSE__V1__TURN__INIT, t2 = SALESPULSE__V1__TURN__INIT;
    Salespulse__V1__Turn *turns[] = {&t1, &t2};
    Salespulse__V1__CallInfo call = SALESPULSE__V1__CALL_INFO__INIT;
    id.kind = SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_PHONE;
    id.value = "+8613800138000";
    t1.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_REP;
    t1.text = "王校长您好";
    t2.speaker = SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER;
    t2.start_ms = 4200;
    t2.text = "售后响应太慢了";
    call.call_id = "call-9";
    call.duration_s = 320;
    ix.meta = &m;
    ix.source = "call";
    ix.external_id = "call-9";
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_CALL;
    ix.direction = SALESPULSE__V1__DIRECTION__DIRECTION_INBOUND;
    ix.customer_identity = &id;
    ix.rep_id = "rep-7";
    ix.n_turns = 2;
    ix.turns = turns;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_CALL;
    ix.call = &call;
    Salespulse__V1__Interaction *out;
    ROUND_TRIP(Interaction, salespulse__v1__interaction, &ix, out);
    assert_string_equal(out->meta->event_id, "ix-1");
    assert_int_equal(out->meta->occurred_at_ms, 1772417700000);
    assert_int_equal(out->channel, SALESPULSE__V1__CHANNEL__CHANNEL_CALL);
    assert_int_equal(out->n_turns, 2);
    assert_string_equal(out->turns[1]->text, "售后响应太慢了");
    assert_int_equal(out->turns[1]->speaker, SALESPULSE__V1__SPEAKER__SPEAKER_CUSTOMER);
    assert_int_equal(out->detail_case, SALESPULSE__V1__INTERACTION__DETAIL_CALL);
    assert_int_equal(out->call->duration_s, 320);
    assert_string_equal(out->customer_identity->value, "+8613800138000");
    salespulse__v1__interaction__free_unpacked(out, NULL);

    /* the same message as a needs diagnosis activity: the oneof switches */
    Salespulse__V1__RepActivity act = SALESPULSE__V1__REP_ACTIVITY__INIT;
    Salespulse__V1__Role roles[]
        = {SALESPULSE__V1__ROLE__ROLE_PROCUREMENT, SALESPULSE__V1__ROLE__ROLE_TECHNICAL};
    act.kind = SALESPULSE__V1__ACTIVITY_KIND__ACTIVITY_KIND_NEEDS_DIAGNOSIS;
    act.n_roles_covered = 2;
    act.roles_covered = roles;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY;
    ix.activity = &act;
    ROUND_TRIP(Interaction, salespulse__v1__interaction, &ix, out);
    assert_int_equal(out->detail_case, SALESPULSE__V1__INTERACTION__DETAIL_ACTIVITY);
    assert_int_equal(out->activity->n_roles_covered, 2);
    assert_int_equal(out->activity->roles_covered[1], SALESPULSE__V1__ROLE__ROLE_TECHNICAL);
    salespulse__v1__interaction__free_unpacked(out, NULL);
}

static void test_interaction_email_and_stage(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta m = meta("ix-2");
    Salespulse__V1__Interaction ix = SALESPULSE__V1__INTERACTION__INIT;
    Salespulse__V1__EmailInfo em = SALESPULSE__V1__EMAIL_INFO__INIT;
    Salespulse__V1__Attachment at = SALESPULSE__V1__ATTACHMENT__INIT;
    Salespulse__V1__Attachment *ats[] = {&at};
    char *to[] = {"kevin@hengyuan.example"};
    at.name = "需求确认书.pdf";
    at.size = 10240;
    at.signed_ = 1;
    em.message_id = "<a@b>";
    em.n_to = 1;
    em.to = to;
    em.n_attachments = 1;
    em.attachments = ats;
    ix.meta = &m;
    ix.channel = SALESPULSE__V1__CHANNEL__CHANNEL_EMAIL;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_EMAIL;
    ix.email = &em;
    ix.quoted_text = "> earlier";
    Salespulse__V1__Interaction *out;
    ROUND_TRIP(Interaction, salespulse__v1__interaction, &ix, out);
    assert_string_equal(out->email->attachments[0]->name, "需求确认书.pdf");
    assert_true(out->email->attachments[0]->signed_);
    assert_string_equal(out->email->to[0], "kevin@hengyuan.example");
    assert_string_equal(out->quoted_text, "> earlier");
    salespulse__v1__interaction__free_unpacked(out, NULL);

    Salespulse__V1__StageChange sc = SALESPULSE__V1__STAGE_CHANGE__INIT;
    sc.deal_id = "D1";
    sc.from_stage = SALESPULSE__V1__STAGE__STAGE_DEMO;
    sc.to_stage = SALESPULSE__V1__STAGE__STAGE_NEGOTIATION;
    sc.amount = 460000;
    ix.detail_case = SALESPULSE__V1__INTERACTION__DETAIL_STAGE_CHANGE;
    ix.stage_change = &sc;
    ROUND_TRIP(Interaction, salespulse__v1__interaction, &ix, out);
    assert_int_equal(out->stage_change->to_stage, SALESPULSE__V1__STAGE__STAGE_NEGOTIATION);
    assert_int_equal(out->stage_change->amount, 460000);
    salespulse__v1__interaction__free_unpacked(out, NULL);
}

static void test_enriched(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta m = meta("enr:ix-1");
    Salespulse__V1__EnrichedInteraction e = SALESPULSE__V1__ENRICHED_INTERACTION__INIT;
    Salespulse__V1__Extraction x = SALESPULSE__V1__EXTRACTION__INIT;
    Salespulse__V1__Budget b = SALESPULSE__V1__BUDGET__INIT;
    char *products[] = {"X200", "EC5"};
    char *risks[] = {"price"};
    Salespulse__V1__Role roles[] = {SALESPULSE__V1__ROLE__ROLE_DECISION_MAKER};
    b.has_min = 0;
    b.has_max = 1;
    b.max = 500000;
    b.currency = "CNY";
    x.n_products = 2;
    x.products = products;
    x.budget = &b;
    x.delivery_by = "2026-06-30";
    x.n_risks = 1;
    x.risks = risks;
    x.n_roles = 1;
    x.roles = roles;
    x.concern = "价格偏高";
    e.meta = &m;
    e.customer_id = "C1";
    e.extraction = &x;
    e.credibility = SALESPULSE__V1__LEVEL__LEVEL_L1;
    e.deal_stage = SALESPULSE__V1__STAGE__STAGE_PROPOSAL;
    Salespulse__V1__EnrichedInteraction *out;
    ROUND_TRIP(EnrichedInteraction, salespulse__v1__enriched_interaction, &e, out);
    assert_string_equal(out->customer_id, "C1");
    assert_int_equal(out->extraction->n_products, 2);
    assert_string_equal(out->extraction->products[1], "EC5");
    assert_false(out->extraction->budget->has_min);
    assert_int_equal(out->extraction->budget->max, 500000);
    assert_string_equal(out->extraction->delivery_by, "2026-06-30");
    assert_string_equal(out->extraction->concern, "价格偏高");
    assert_int_equal(out->credibility, SALESPULSE__V1__LEVEL__LEVEL_L1);
    salespulse__v1__enriched_interaction__free_unpacked(out, NULL);
}

static Salespulse__V1__Signal *make_signal(Salespulse__V1__Signal *s, Salespulse__V1__EventMeta *m,
    Salespulse__V1__Subject *sub, Salespulse__V1__Evidence *ev, Salespulse__V1__Metric *met,
    Salespulse__V1__Metric **mets, char **ids)
{
    sub->type = SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_CUSTOMER;
    sub->id = "C1";
    met->name = "days_silent";
    met->value = 32;
    mets[0] = met;
    ev->n_numbers = 1;
    ev->numbers = mets;
    ev->n_interaction_ids = 1;
    ev->interaction_ids = ids;
    s->meta = m;
    s->signal_id = "sig:customer.stale:customer:C1:1";
    s->kind = "customer.stale";
    s->transition = SALESPULSE__V1__TRANSITION__TRANSITION_RAISED;
    s->level = SALESPULSE__V1__LEVEL__LEVEL_L1;
    s->subject = sub;
    s->episode = 1;
    s->explanation_zh = "客户王校长 32 天无任何互动";
    s->explanation_en = "no interaction with customer for 32 days";
    s->evidence = ev;
    return s;
}

static void test_signal_and_tasks(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta m = meta("sig:customer.stale:customer:C1:1:raised:1");
    Salespulse__V1__Signal s = SALESPULSE__V1__SIGNAL__INIT;
    Salespulse__V1__Subject sub = SALESPULSE__V1__SUBJECT__INIT;
    Salespulse__V1__Evidence ev = SALESPULSE__V1__EVIDENCE__INIT;
    Salespulse__V1__Metric met = SALESPULSE__V1__METRIC__INIT;
    Salespulse__V1__Metric *mets[1];
    char *ids[] = {"ix-1"};
    make_signal(&s, &m, &sub, &ev, &met, mets, ids);
    Salespulse__V1__Signal *out;
    ROUND_TRIP(Signal, salespulse__v1__signal, &s, out);
    assert_string_equal(out->kind, "customer.stale");
    assert_int_equal(out->subject->type, SALESPULSE__V1__SUBJECT_TYPE__SUBJECT_TYPE_CUSTOMER);
    assert_true(out->evidence->numbers[0]->value == 32.0);
    assert_string_equal(out->explanation_zh, "客户王校长 32 天无任何互动");
    salespulse__v1__signal__free_unpacked(out, NULL);

    Salespulse__V1__TaskCommand tc = SALESPULSE__V1__TASK_COMMAND__INIT;
    char *chain[] = {"sup-1", "dir-1"};
    tc.meta = &m;
    tc.task_key = "task:customer.stale:customer:C1:1";
    tc.op = SALESPULSE__V1__TASK_OP__TASK_OP_UPSERT;
    tc.signal = &s;
    tc.assignee_id = "rep-7";
    tc.assignee_role = "owner_rep";
    tc.sla_s = 86400;
    tc.n_chain = 2;
    tc.chain = chain;
    Salespulse__V1__TaskCommand *tout;
    ROUND_TRIP(TaskCommand, salespulse__v1__task_command, &tc, tout);
    assert_string_equal(tout->signal->signal_id, "sig:customer.stale:customer:C1:1");
    assert_string_equal(tout->chain[1], "dir-1");
    assert_int_equal(tout->sla_s, 86400);
    salespulse__v1__task_command__free_unpacked(tout, NULL);

    Salespulse__V1__TaskEvent te = SALESPULSE__V1__TASK_EVENT__INIT;
    te.meta = &m;
    te.task_key = tc.task_key;
    te.status = SALESPULSE__V1__TASK_STATUS__TASK_STATUS_ACKNOWLEDGED;
    te.previous_status = SALESPULSE__V1__TASK_STATUS__TASK_STATUS_OPEN;
    te.actor_id = "rep-7";
    te.escalation_level = 1;
    Salespulse__V1__TaskEvent *eout;
    ROUND_TRIP(TaskEvent, salespulse__v1__task_event, &te, eout);
    assert_int_equal(eout->status, SALESPULSE__V1__TASK_STATUS__TASK_STATUS_ACKNOWLEDGED);
    assert_int_equal(eout->escalation_level, 1);
    salespulse__v1__task_event__free_unpacked(eout, NULL);
}

static void test_deadletter_and_unknown_fields(void **state)
{
    (void)state;
    Salespulse__V1__EventMeta m = meta("dlq:t:0:5");
    Salespulse__V1__DeadLetter d = SALESPULSE__V1__DEAD_LETTER__INIT;
    uint8_t payload[] = {0xff, 0x00, 0x13};
    d.meta = &m;
    d.topic = "sp.interactions.v1";
    d.partition = 3;
    d.offset = 5;
    d.payload.data = payload;
    d.payload.len = 3;
    d.reason = "undecodable";
    Salespulse__V1__DeadLetter *out;
    ROUND_TRIP(DeadLetter, salespulse__v1__dead_letter, &d, out);
    assert_int_equal(out->partition, 3);
    assert_int_equal(out->payload.len, 3);
    assert_memory_equal(out->payload.data, payload, 3);
    salespulse__v1__dead_letter__free_unpacked(out, NULL);

    /* A newer producer adds field 99 (varint 7): older consumers still decode. */
    Salespulse__V1__Identity id = SALESPULSE__V1__IDENTITY__INIT;
    id.kind = SALESPULSE__V1__IDENTITY_KIND__IDENTITY_KIND_EMAIL;
    id.value = "a@b.c";
    uint8_t buf[64];
    size_t n = salespulse__v1__identity__pack(&id, buf);
    /* key = (99 << 3) | wire type 0 = 792, a two-byte varint */
    buf[n++] = (uint8_t)((792 & 0x7f) | 0x80);
    buf[n++] = (uint8_t)(792 >> 7);
    buf[n++] = 7;
    Salespulse__V1__Identity *iout = salespulse__v1__identity__unpack(NULL, n, buf);
    assert_non_null(iout);
    assert_string_equal(iout->value, "a@b.c");
    salespulse__v1__identity__free_unpacked(iout, NULL);
    /* garbage is refused, not crashed on */
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_null(salespulse__v1__interaction__unpack(NULL, sizeof junk, junk));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interaction_call_and_activity),
        cmocka_unit_test(test_interaction_email_and_stage),
        cmocka_unit_test(test_enriched),
        cmocka_unit_test(test_signal_and_tasks),
        cmocka_unit_test(test_deadletter_and_unknown_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
