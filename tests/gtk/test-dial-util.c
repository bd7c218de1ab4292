/* test-dial-util.c — what the number entry and the settings accept
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-dial-util.h"

#include <gio/gio.h>

static void
check_numbers (const char  *text,
               const char  *own,
               const char **expected)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) numbers = pl_dial_parse_numbers (text, own, &error);

  g_assert_no_error (error);
  g_assert_nonnull (numbers);
  g_assert_cmpstrv (numbers, expected);
}

static void
check_refused (const char *text,
               const char *own)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) numbers = pl_dial_parse_numbers (text, own, &error);

  g_assert_null (numbers);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, !=, "");
}

static void
test_parse_numbers (void)
{
  const char *one[] = { "1002", NULL };
  const char *three[] = { "2001", "2002", "2003", NULL };
  const char *mixed[] = { "+44.20-7946", "alice_2", NULL };

  check_numbers ("1002", NULL, one);
  check_numbers ("  1002  ", "1001", one);
  check_numbers ("2001,2002,2003", "1001", three);
  check_numbers ("2001, 2002 ,2003,", "1001", three);
  check_numbers (",,2001;2002\n2003\n", NULL, three);
  check_numbers ("2001 2002\t2003", NULL, three);
  check_numbers ("+44.20-7946, alice_2", NULL, mixed);

  check_refused ("", NULL);
  check_refused (" , ,", NULL);
  check_refused ("1001", "1001");
  check_refused ("2001, 1001", "1001");
  check_refused ("2001, 2001", NULL);
  check_refused ("20/01", NULL);
  check_refused ("abcdefghijabcdefghijabcdefghijabc", NULL);   /* 33 characters */
  check_refused ("ü", NULL);
}

static void
check_filter (const char *text,
              const char *expected)
{
  g_autofree char *filtered = pl_dial_filter_text (text);

  g_assert_cmpstr (filtered, ==, expected);
}

static void
test_filter_text (void)
{
  check_filter ("1002", "1002");
  check_filter ("1002, 1003", "1002, 1003");
  check_filter ("1002\n1003\n", "1002, 1003, ");
  check_filter ("1002;1003", "1002, 1003");
  check_filter ("(555) 010-2000", "555 010-2000");
  check_filter ("tel:\t1002", "tel 1002");
  check_filter ("☎ 1002", " 1002");
  check_filter ("", "");
}

static void
test_server_url (void)
{
  const char *good[] = { "ws://127.0.0.1:8443/ws", "wss://phone.example.org/ws", "ws://[::1]:80/" };
  const char *bad[] = { "", "127.0.0.1:8443", "http://example.org/ws", "ws://", "ws:///ws",
                        "not a url" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (pl_check_server_url (good[i], NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr(GError) error = NULL;

    g_assert_false (pl_check_server_url (bad[i], &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
  g_assert_false (pl_check_server_url (NULL, NULL));
}

static void
test_ice_server (void)
{
  g_assert_true (pl_check_ice_server ("", FALSE, NULL));
  g_assert_true (pl_check_ice_server ("stun://stun.example.org:3478", FALSE, NULL));
  g_assert_true (pl_check_ice_server ("turn://user:pass@turn.example.org:3478", TRUE, NULL));
  g_assert_true (pl_check_ice_server ("turns://user:pass@turn.example.org:5349", TRUE, NULL));
  g_assert_false (pl_check_ice_server ("turn://user:pass@turn.example.org", FALSE, NULL));
  g_assert_false (pl_check_ice_server ("stun://stun.example.org", TRUE, NULL));
  /* webrtcbin's add-turn-server refuses these. */
  g_assert_false (pl_check_ice_server ("turn://turn.example.org:3478", TRUE, NULL));
  g_assert_false (pl_check_ice_server ("turn://user@turn.example.org:3478", TRUE, NULL));
  g_assert_false (pl_check_ice_server ("stun.example.org:3478", FALSE, NULL));
}

static void
test_format_duration (void)
{
  const struct { gint64 seconds; const char *text; } cases[] = {
    { -3, "0:00" }, { 0, "0:00" }, { 7, "0:07" }, { 61, "1:01" }, { 754, "12:34" },
    { 3723, "1:02:03" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *text = pl_format_duration (cases[i].seconds);

    g_assert_cmpstr (text, ==, cases[i].text);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/partyline/gtk/dial/parse-numbers", test_parse_numbers);
  g_test_add_func ("/partyline/gtk/dial/filter-text", test_filter_text);
  g_test_add_func ("/partyline/gtk/dial/server-url", test_server_url);
  g_test_add_func ("/partyline/gtk/dial/ice-server", test_ice_server);
  g_test_add_func ("/partyline/gtk/dial/format-duration", test_format_duration);

  return g_test_run ();
}
