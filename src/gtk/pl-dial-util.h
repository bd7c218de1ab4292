/* pl-dial-util.h — what the number entry and the settings accept
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Splits @text ("1002, 1003") into numbers for a group dial: commas,
 * semicolons and blanks separate numbers; empty items are skipped. Fails, with a translated message, on an invalid number, a number
 * given twice, @own_number (may be NULL), or when nothing is left. */
GStrv    pl_dial_parse_numbers  (const char *text,
                                 const char *own_number,
                                 GError    **error);

/* What typing or pasting @text into the number entry inserts: the
 * characters a number may hold, commas and spaces; semicolons and line
 * breaks become ", ", tabs spaces, and anything else (brackets, slashes,
 * letters outside ASCII) is dropped. */
char    *pl_dial_filter_text    (const char *text);

/* Checks a signaling server address (ws:// or wss://, with a host). */
gboolean pl_check_server_url    (const char *url,
                                 GError    **error);

/* Checks a STUN (stun://host:port) or TURN (turn[s]://user:pass@host:port)
 * server address; an empty string is allowed (none). */
gboolean pl_check_ice_server    (const char *uri,
                                 gboolean    turn,
                                 GError    **error);

/* "0:07", "12:34", "1:02:03" */
char    *pl_format_duration     (gint64 seconds);

G_END_DECLS
