/* API tokens: format, hash, constant-time verification and lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "err.h"
#include "taskpool/token.h"
#include "taskpool/token_cache.h"

#include <string.h>

static void test_generate(void **state)
{
    (void)state;
    char a[SP_TOKEN_LEN + 1], b[SP_TOKEN_LEN + 1], ha[SP_TOKEN_HASH_LEN + 1], hb[SP_TOKEN_HASH_LEN + 1];
    assert_int_equal(token_generate(a, ha), SP_OK);
    assert_int_equal(token_generate(b, hb), SP_OK);
    assert_int_equal(strlen(a), SP_TOKEN_LEN);
    assert_int_equal(strncmp(a, "spt_", 4), 0);
    assert_int_equal(strspn(a + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    assert_string_not_equal(a, b);
    assert_string_not_equal(ha, hb);
    assert_int_equal(strlen(ha), 64);
    char again[SP_TOKEN_HASH_LEN + 1];
    assert_int_equal(token_hash(a, again), SP_OK);
    assert_string_equal(again, ha);
    assert_true(token_verify(a, ha));
    assert_false(token_verify(b, ha));
    assert_false(token_verify(a, hb));
    assert_false(token_verify(a, "abc"));
    assert_false(token_verify(NULL, ha));
}

static void test_known_hash(void **state)
{
    (void)state;
    /* sha256("spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), computed with sha256sum */
    const char *tok = "spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    char h[SP_TOKEN_HASH_LEN + 1];
    assert_int_equal(token_hash(tok, h), SP_OK);
    assert_string_equal(h, "8376899d720723d192bc7e15cb4edf99e516cf63ef5b38a90ca120ef01dd408b");
}

static void test_malformed(void **state)
{
    (void)state;
    char h[SP_TOKEN_HASH_LEN + 1];
    const char *bad[] = {"", "spt_", "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
        "spt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(token_hash(bad[i], h), SP_EAUTH);
    assert_int_equal(token_hash(NULL, h), SP_EAUTH);
}

static void test_bearer_and_lookup(void **state)
{
    (void)state;
    char t1[SP_TOKEN_LEN + 1], t2[SP_TOKEN_LEN + 1], t3[SP_TOKEN_LEN + 1];
    char h1[SP_TOKEN_HASH_LEN + 1], h2[SP_TOKEN_HASH_LEN + 1], h3[SP_TOKEN_HASH_LEN + 1];
    assert_int_equal(token_generate(t1, h1), SP_OK);
    assert_int_equal(token_generate(t2, h2), SP_OK);
    assert_int_equal(token_generate(t3, h3), SP_OK);
    token_entry table[] = {{h1, "P-R1", 0}, {h2, "P-S1", 1}, {"short", "P-X", 0}};

    char header[80], got[SP_TOKEN_LEN + 1];
    strcpy(header, "Bearer ");
    strcat(header, t1);
    assert_int_equal(token_from_bearer(header, got), SP_OK);
    assert_string_equal(got, t1);
    size_t idx = 99;
    assert_int_equal(token_lookup(table, 3, got, &idx), SP_OK);
    assert_string_equal(table[idx].person_id, "P-R1");
    /* revoked, unknown, malformed */
    assert_int_equal(token_lookup(table, 3, t2, &idx), SP_EAUTH);
    assert_int_equal(token_lookup(table, 3, t3, &idx), SP_EAUTH);
    assert_int_equal(token_lookup(table, 3, "spt_nope", &idx), SP_EAUTH);
    assert_int_equal(token_from_bearer("Basic abc", got), SP_EAUTH);
    assert_int_equal(token_from_bearer("Bearer ", got), SP_EAUTH);
    assert_int_equal(token_from_bearer(NULL, got), SP_EAUTH);
    strcpy(header, "bearer   ");
    strcat(header, t1);
    strcat(header, "\r\n");
    assert_int_equal(token_from_bearer(header, got), SP_OK);
    assert_string_equal(got, t1);
}

/* The token cache: a hit within the TTL, a miss after it, never past the
 * token's own expiry, another hash in the same slot evicts, no false hit. */
static void test_cache(void **state)
{
    (void)state;
    token_cache *c = NULL;
    assert_int_equal(token_cache_new(4, 0, &c), SP_EINVAL);
    assert_int_equal(token_cache_new(4, 5000, &c), SP_OK);
    char a[SP_TOKEN_LEN + 1], ha[SP_TOKEN_HASH_LEN + 1], hb[SP_TOKEN_HASH_LEN + 1];
    assert_int_equal(token_generate(a, ha), SP_OK);
    memcpy(hb, ha, sizeof hb);
    hb[63] = hb[63] == '0' ? '1' : '0'; /* same slot (first 8 digits), another hash */
    sp_http_principal p = {.person_id = "rep1", .role = "rep", .team = "t1"}, out;
    assert_int_equal(token_cache_get(c, ha, 1000, &out), SP_ENOTFOUND);
    token_cache_put(c, ha, &p, 1000, 0);
    assert_int_equal(token_cache_get(c, ha, 5999, &out), SP_OK);
    assert_string_equal(out.person_id, "rep1");
    assert_string_equal(out.team, "t1");
    assert_int_equal(token_cache_get(c, hb, 2000, &out), SP_ENOTFOUND);
    assert_int_equal(token_cache_get(c, ha, 6000, &out), SP_ENOTFOUND); /* TTL over */
    token_cache_put(c, ha, &p, 10000, 11000); /* the token expires first */
    assert_int_equal(token_cache_get(c, ha, 10999, &out), SP_OK);
    assert_int_equal(token_cache_get(c, ha, 11000, &out), SP_ENOTFOUND);
    token_cache_put(c, ha, &p, 20000, 19000); /* already expired: not cached */
    assert_int_equal(token_cache_get(c, ha, 20000, &out), SP_ENOTFOUND);
    token_cache_put(c, ha, &p, 30000, 0);
    token_cache_put(c, hb, &p, 30000, 0); /* evicts ha */
    assert_int_equal(token_cache_get(c, ha, 30001, &out), SP_ENOTFOUND);
    assert_int_equal(token_cache_get(c, hb, 30001, &out), SP_OK);
    assert_int_equal(token_cache_get(c, "short", 30001, &out), SP_ENOTFOUND);
    assert_int_equal(token_cache_get(NULL, ha, 30001, &out), SP_ENOTFOUND);
    token_cache_destroy(c);
    token_cache_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_known_hash),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bearer_and_lookup),
        cmocka_unit_test(test_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
