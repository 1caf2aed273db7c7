/* quote.h - cutting quoted history and signatures off an e-mail body.
 *
 * The body is cut at the first line (scanning from the top) that starts
 * quoted history or a signature:
 *   - a line starting with ">" (after blanks);
 *   - "On ... wrote:" (the attribution may wrap onto a second line);
 *   - "在 ... 写道：" / "写道:";
 *   - "-----Original Message-----" (any dash count, any case, spaced or not),
 *     "----- 原始邮件 -----", "-----邮件原件-----", "----- Forwarded message -----";
 *   - a "From:" / "发件人:" header block: that line followed within the
 *     next three lines by Sent:/Date:/To:/Subject:/发送时间/日期/收件人/主题;
 *   - the signature delimiter "-- " (or "--") alone on a line;
 *   - a sign-off line among the last ten non-blank lines: 此致, 此致敬礼,
 *     祝好, 顺祝商祺, 顺颂商祺, 顺颂时祺, 祝商祺, 祝工作顺利, 谢谢, 多谢,
 *     Best regards, Kind regards, Regards, Thanks, Cheers (trailing
 *     punctuation ignored; the whole line must be the sign-off). */
#ifndef SP_INGEST_QUOTE_H
#define SP_INGEST_QUOTE_H

#include <stddef.h>

/* Returns the byte offset in text[0..len) where the cut starts (len when
 * nothing is cut). The new text is text[0..cut) with trailing blanks
 * trimmed by the caller; the cut part is text[cut..len). Pure; never fails. */
size_t ingest_quote_cut(const char *text, size_t len);

#endif
