/* pl-json-line.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-json-line"

#include "config.h"

#include "pl-json-line.h"

#include <math.h>

struct _PlJsonLine
{
  GString *json;
};

static void
append_string (GString    *out,
               const char *value)
{
  g_string_append_c (out, '"');
  for (const char *p = value; *p; p++) {
    guchar c = *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, c);
  }
  g_string_append_c (out, '"');
}

static void
add_name (PlJsonLine *line,
          const char *name)
{
  g_string_append_c (line->json, ',');
  append_string (line->json, name);
  g_string_append_c (line->json, ':');
}

PlJsonLine *
pl_json_line_new (const char *event,
                  double      t)
{
  PlJsonLine *line;

  g_return_val_if_fail (event != NULL, NULL);

  line = g_new0 (PlJsonLine, 1);
  line->json = g_string_new ("{\"event\":");
  append_string (line->json, event);
  pl_json_line_add_double (line, "t", t, 3);

  return line;
}

void
pl_json_line_add_string (PlJsonLine *line,
                         const char *name,
                         const char *value)
{
  g_return_if_fail (line != NULL);

  add_name (line, name);
  if (value != NULL)
    append_string (line->json, value);
  else
    g_string_append (line->json, "null");
}

void
pl_json_line_add_int (PlJsonLine *line,
                      const char *name,
                      gint64      value)
{
  g_return_if_fail (line != NULL);

  add_name (line, name);
  g_string_append_printf (line->json, "%" G_GINT64_FORMAT, value);
}

void
pl_json_line_add_bool (PlJsonLine *line,
                       const char *name,
                       gboolean    value)
{
  g_return_if_fail (line != NULL);

  add_name (line, name);
  g_string_append (line->json, value ? "true" : "false");
}

void
pl_json_line_add_double (PlJsonLine *line,
                         const char *name,
                         double      value,
                         guint       decimals)
{
  char format[8];
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_if_fail (line != NULL);
  g_return_if_fail (decimals <= 9);

  add_name (line, name);
  if (!isfinite (value)) {
    g_string_append (line->json, "null");
    return;
  }
  g_snprintf (format, sizeof format, "%%.%uf", decimals);
  g_string_append (line->json, g_ascii_formatd (buffer, sizeof buffer, format, value));
}

void
pl_json_line_add_null (PlJsonLine *line,
                       const char *name)
{
  g_return_if_fail (line != NULL);

  add_name (line, name);
  g_string_append (line->json, "null");
}

char *
pl_json_line_free_to_string (PlJsonLine *line)
{
  char *text;

  g_return_val_if_fail (line != NULL, NULL);

  g_string_append_c (line->json, '}');
  text = g_string_free (line->json, FALSE);
  g_free (line);

  return text;
}
