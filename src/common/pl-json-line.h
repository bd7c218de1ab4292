/* pl-json-line.h — one JSON object, written by hand, for event lines
 *
 * partyline-cli's events and the dialer's --json log are read by scripts: a
 * measurement keeps the precision it means (json-glib would print every
 * double with 17 digits).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PlJsonLine PlJsonLine;

/* `{"event":EVENT,"t":T` with T in seconds, to the millisecond. */
PlJsonLine *pl_json_line_new            (const char *event,
                                         double      t);
/* NULL writes null. */
void        pl_json_line_add_string     (PlJsonLine *line,
                                         const char *name,
                                         const char *value);
void        pl_json_line_add_int        (PlJsonLine *line,
                                         const char *name,
                                         gint64      value);
void        pl_json_line_add_bool       (PlJsonLine *line,
                                         const char *name,
                                         gboolean    value);
/* With @decimals decimals; a value that is not finite writes null. */
void        pl_json_line_add_double     (PlJsonLine *line,
                                         const char *name,
                                         double      value,
                                         guint       decimals);
void        pl_json_line_add_null       (PlJsonLine *line,
                                         const char *name);
/* Closes the object and returns its text (one line, no newline). */
char       *pl_json_line_free_to_string (PlJsonLine *line);

G_END_DECLS
