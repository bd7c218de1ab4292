/* pl-dial-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-dial-util"

#include "config.h"

#include "pl-dial-util.h"
#include "pl-media.h"
#include "pl-protocol.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include <string.h>

GStrv
pl_dial_parse_numbers (const char *text,
                       const char *own_number,
                       GError    **error)
{
  g_auto(GStrv) items = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto(GStrv) numbers = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  items = g_strsplit_set (text, ",; \t\r\n", -1);
  for (guint i = 0; items[i]; i++) {
    char *number = g_strstrip (items[i]);

    if (*number == '\0')
      continue;
    if (!pl_number_is_valid (number)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   /* Translators: %s is what the user typed as a phone number */
                   _("“%s” is not a valid number"), number);
      return NULL;
    }
    if (own_number != NULL && g_str_equal (number, own_number)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("You cannot call your own number"));
      return NULL;
    }
    if (!g_hash_table_add (seen, number)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s is given twice"), number);
      return NULL;
    }
    g_strv_builder_add (builder, number);
  }

  numbers = g_strv_builder_end (builder);
  if (numbers[0] == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Enter a number to call"));
    return NULL;
  }

  return g_steal_pointer (&numbers);
}

static gboolean
is_number_char (gunichar c)
{
  return c < 0x80 && (g_ascii_isalnum (c) || c == '_' || c == '.' || c == '+' || c == '-');
}

char *
pl_dial_filter_text (const char *text)
{
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_new (NULL);
  for (const char *p = text; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char_validated (p, -1);

    if (c == (gunichar) -1 || c == (gunichar) -2)
      break;
    if (is_number_char (c) || c == ',' || c == ' ')
      g_string_append_c (out, (char) c);
    else if (c == ';' || c == '\n' || c == '\r')
      g_string_append (out, ", ");
    else if (c == '\t')
      g_string_append_c (out, ' ');
    /* Anything else (brackets, slashes, letters outside ASCII) is dropped. */
  }

  return g_string_free (out, FALSE);
}

gboolean
pl_check_server_url (const char *url,
                     GError    **error)
{
  g_autoptr(GUri) uri = NULL;

  if (url == NULL || *url == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("No server address is set"));
    return FALSE;
  }

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL ||
      (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0 &&
       g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 /* Translators: %s is a web address the user typed */
                 _("“%s” is not a server address: it should look like ws://host:port/ws or wss://host/ws"),
                 url);
    return FALSE;
  }

  return TRUE;
}

gboolean
pl_check_ice_server (const char *uri_text,
                     gboolean    turn,
                     GError    **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (uri_text == NULL || *uri_text == '\0')
    return TRUE;

  uri = g_uri_parse (uri_text, G_URI_FLAGS_NONE, NULL);
  scheme = uri ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0' ||
      (turn && g_strcmp0 (scheme, "turn") != 0 && g_strcmp0 (scheme, "turns") != 0) ||
      (turn && !pl_media_turn_uri_has_credentials (uri)) ||
      (!turn && g_strcmp0 (scheme, "stun") != 0)) {
    if (turn)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a TURN server: it should look like turn://user:password@host:port"),
                   uri_text);
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a STUN server: it should look like stun://host:port"), uri_text);
    return FALSE;
  }

  return TRUE;
}

char *
pl_format_duration (gint64 seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", seconds / 3600,
                            (int) (seconds / 60 % 60), (int) (seconds % 60));

  return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d", seconds / 60, (int) (seconds % 60));
}
