/* err.h - the one error-code enum of SalesPulse.
 *
 * Every fallible function returns an sp_err; SP_OK is 0 so the nng idiom
 * `if ((rv = a()) != 0 || (rv = b()) != 0)` works. Results go through
 * out-parameters. */
#ifndef SP_ERR_H
#define SP_ERR_H

typedef enum sp_err {
    SP_OK = 0,
    SP_ENOMEM, /* out of memory */
    SP_EINVAL, /* invalid argument or input */
    SP_ENOTFOUND, /* no such item */
    SP_EEXIST, /* already exists */
    SP_ECONFIG, /* configuration missing or invalid */
    SP_EIO, /* I/O or system call failed */
    SP_EDB, /* database error (non-transient) */
    SP_EDBDOWN, /* database unreachable: transient, retry */
    SP_EKAFKA, /* Kafka error (non-transient) */
    SP_ETIMEOUT, /* bounded wait expired */
    SP_EFULL, /* queue or buffer full: back-pressure */
    SP_EDECODE, /* undecodable message */
    SP_EAUTH, /* missing or wrong credentials */
    SP_EFORBIDDEN, /* authenticated but not allowed */
    SP_ECONFLICT, /* illegal state transition */
    SP_ETOOBIG, /* input over its size limit */
    SP_EUTF8, /* invalid UTF-8 */
    SP_ESTATE, /* object not in a state that allows the call */
    SP_ECLOSED, /* shut down */
    SP_EAGAIN, /* not available yet: asked for, ask again later */
    SP_ERR_COUNT
} sp_err;

/* Returns a static English description of err; never NULL. */
const char *sp_strerror(int err);

/* Returns the stable snake_case name of err ("einval", ...); never NULL. */
const char *sp_errname(int err);

/* An assert that stays on in release builds (Redis serverAssert): logs the
 * expression and location and aborts. */
#define SP_ASSERT(e) ((e) ? (void)0 : sp_assert_fail(#e, __FILE__, __LINE__))
_Noreturn void sp_assert_fail(const char *expr, const char *file, int line);

#endif
