/* wecom.h - WeCom (企业微信) callback crypto and message parsing.
 *
 * As WeCom specifies (developer.work.weixin.qq.com, "加解密方案说明"):
 *   msg_signature = SHA-1 hex of the byte-wise sorted concatenation of token,
 *                   timestamp, nonce and the ciphertext (echostr / Encrypt);
 *   AES-256-CBC, key = Base64-decode(EncodingAESKey + "="), IV = key[0..16),
 *   PKCS#7 padding to a 32-byte block;
 *   plaintext = 16 random bytes | 4-byte big-endian length | message |
 *               receive id (the corp id, checked on decrypt).
 * XML is read with libxml2 without network access, entity substitution or
 * DTD loading; a document with a DOCTYPE is refused. The service main should
 * call xmlInitParser() once at start (libxml2's thread-safety rule). */
#ifndef SP_INGEST_WECOM_H
#define SP_INGEST_WECOM_H

#include <stddef.h>

#include "ingest/interaction.h"

#define SP_WECOM_SIG_LEN 40
#define SP_WECOM_XML_MAX (1024 * 1024)

typedef struct wecom_crypto wecom_crypto;

/* Fills buf[0..n) with random bytes; returns 0 on success. */
typedef int (*wecom_random_fn)(unsigned char *buf, size_t n, void *arg);

/* Creates a context from the callback settings. encoding_aes_key must be 43
 * Base64 characters. Returns SP_EINVAL (bad key, empty token/receive id),
 * SP_ENOMEM. Caller frees with wecom_crypto_destroy. */
int wecom_crypto_new(
    const char *token, const char *encoding_aes_key, const char *receive_id, wecom_crypto **out);

/* Frees c (key bytes wiped). Accepts NULL. */
void wecom_crypto_destroy(wecom_crypto *c);

/* Writes the lower-case SHA-1 hex signature of (token, timestamp, nonce,
 * encrypt) into out. Returns SP_EINVAL for NULL input. */
int wecom_signature(const char *token, const char *timestamp, const char *nonce, const char *encrypt,
    char out[SP_WECOM_SIG_LEN + 1]);

/* Compares msg_signature (hex, any case) with the expected one in constant
 * time. Returns SP_OK or SP_EAUTH (also for NULL / wrong length). */
int wecom_signature_verify(const wecom_crypto *c, const char *msg_signature, const char *timestamp,
    const char *nonce, const char *encrypt);

/* Decrypts a Base64 ciphertext into a malloc'd NUL-terminated message
 * (*msglen bytes, caller frees with free). Returns SP_EDECODE (not Base64,
 * not whole AES blocks, bad padding, length field out of range),
 * SP_EFORBIDDEN (receive id is not ours), SP_ENOMEM. */
int wecom_decrypt(const wecom_crypto *c, const char *b64, size_t len, char **msg, size_t *msglen);

/* Encrypts msg into a malloc'd Base64 string (caller frees with free). rnd
 * supplies the 16 random bytes; NULL means OpenSSL RAND_bytes. Returns
 * SP_EIO (random or cipher failure), SP_ETOOBIG (over 1 MiB), SP_ENOMEM. */
int wecom_encrypt(
    const wecom_crypto *c, const char *msg, size_t len, wecom_random_fn rnd, void *arg, char **b64);

/* GET /v1/wecom/callback: verifies the signature over echostr and returns
 * the decrypted echo (to be sent back verbatim). Errors as above. */
int wecom_verify_url(const wecom_crypto *c, const char *msg_signature, const char *timestamp,
    const char *nonce, const char *echostr, char **plain, size_t *plainlen);

typedef struct wecom_envelope {
    char *to_user_name; /* corp id */
    char *encrypt;
    char *agent_id; /* "" when absent */
} wecom_envelope;

/* Parses the outer callback XML <xml><ToUserName/><Encrypt/><AgentID/></xml>.
 * Returns SP_EDECODE (not XML, DOCTYPE present, no Encrypt), SP_ETOOBIG,
 * SP_ENOMEM. Release with wecom_envelope_clear. */
int wecom_envelope_parse(const char *xml, size_t len, wecom_envelope *out);

/* Frees the strings of e and zeroes it. Accepts NULL. */
void wecom_envelope_clear(wecom_envelope *e);

/* POST /v1/wecom/callback: outer XML -> verify signature over Encrypt ->
 * decrypt -> the inner message XML (malloc'd, caller frees). Errors as
 * above; SP_EAUTH for a bad signature. */
int wecom_callback_decrypt(const wecom_crypto *c, const char *msg_signature, const char *timestamp,
    const char *nonce, const char *body, size_t len, char **inner, size_t *innerlen);

/* Builds an encrypted passive reply <xml><Encrypt/><MsgSignature/>
 * <TimeStamp/><Nonce/></xml> for plaintext msg (malloc'd). Errors as
 * wecom_encrypt; SP_EINVAL for a timestamp/nonce that is not alphanumeric. */
int wecom_reply_build(const wecom_crypto *c, const char *msg, size_t len, const char *timestamp,
    const char *nonce, wecom_random_fn rnd, void *arg, char **xml);

/* Turns a decrypted message XML into an Interaction (channel wecom, source
 * "wecom"):
 *   MsgType text  -> text = Content, external_id = MsgId, occurred_at =
 *                    CreateTime; FromUserName of an external contact (ids
 *                    "wm…"/"wo…") is the customer identity (inbound), else
 *                    the member is rep_id (direction internal);
 *   MsgType event, Event change_external_contact / change_external_chat ->
 *                    subject "wecom:<Event>:<ChangeType>", rep_id = UserID,
 *                    customer identity (wecom) = ExternalUserID, external_id
 *                    = "<Event>:<ChangeType>:<UserID>:<ExternalUserID or
 *                    ChatId>:<CreateTime>" (deterministic, so WeCom's
 *                    retries dedupe).
 * Returns SP_ENOTFOUND for other message types (acknowledge and drop),
 * SP_EDECODE (bad XML, missing required element), SP_ENOMEM. Caller frees
 * *out with interaction_destroy. */
int wecom_message_to_interaction(const char *xml, size_t len, long long now_ms, sp_interaction **out);

#endif
