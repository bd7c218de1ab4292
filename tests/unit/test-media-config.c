/* test-media-config.c — PlMediaConfig: copy and equal, field by field
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-media.h"

#include <string.h>

/* A config with every field away from its default, so that a change to any
 * one of them is a change from something. */
static PlMediaConfig *
full_config (void)
{
  PlMediaConfig *config = pl_media_config_new ();
  const char *addresses[] = { "127.0.0.1", NULL };
  const char *stun[] = { "stun:127.0.0.1:3478", NULL };
  const char *turn[] = { "turn:user:pass@127.0.0.1:3478", NULL };

  config->source = PL_SOURCE_DEVICE;
  config->tone_hz = 440;
  config->file_path = g_strdup ("/tmp/in.ogg");
  config->sink = PL_SINK_DEVICE;
  config->record_dir = g_strdup ("/tmp");
  config->analyze = TRUE;
  config->ice_addresses = g_strdupv ((GStrv) addresses);
  config->stun_servers = g_strdupv ((GStrv) stun);
  config->turn_servers = g_strdupv ((GStrv) turn);
  config->latency_ms = 80;
  config->stun_pacing_ms = 20;
  config->source_device = g_strdup ("Microphone A");
  config->sink_device = g_strdup ("Speakers A");
  config->max_pending_candidates = 7;
  config->max_remote_candidates = 8;
  config->max_candidate_length = 9;

  return config;
}

static void
set_string (char      **field,
            const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
set_list (GStrv      *field,
          const char *value)
{
  const char *list[] = { value, NULL };

  g_strfreev (*field);
  *field = g_strdupv ((GStrv) list);
}

/* The fields of PlMediaConfig (pl-media.h), in its order. */
static const char * const fields[] = {
  "source", "tone_hz", "file_path", "sink", "record_dir", "analyze", "ice_addresses",
  "stun_servers", "turn_servers", "latency_ms", "stun_pacing_ms", "source_device",
  "sink_device", "max_pending_candidates", "max_remote_candidates", "max_candidate_length",
};

/* Changes the field fields[@field] of @c, and only it. */
static void
change_field (PlMediaConfig *c,
              guint          field)
{
  switch (field) {
  case 0:
    c->source = PL_SOURCE_TONE;
    break;
  case 1:
    c->tone_hz = 441;
    break;
  case 2:
    set_string (&c->file_path, "/tmp/other.ogg");
    break;
  case 3:
    c->sink = PL_SINK_FAKE;
    break;
  case 4:
    set_string (&c->record_dir, "/var/tmp");
    break;
  case 5:
    c->analyze = FALSE;
    break;
  case 6:
    set_list (&c->ice_addresses, "127.0.0.2");
    break;
  case 7:
    set_list (&c->stun_servers, "stun:127.0.0.2");
    break;
  case 8:
    set_list (&c->turn_servers, "turn:u:p@127.0.0.2");
    break;
  case 9:
    c->latency_ms = 81;
    break;
  case 10:
    c->stun_pacing_ms = 21;
    break;
  case 11:
    set_string (&c->source_device, "Microphone B");
    break;
  case 12:
    set_string (&c->sink_device, "Speakers B");
    break;
  case 13:
    c->max_pending_candidates = 70;
    break;
  case 14:
    c->max_remote_candidates = 80;
    break;
  case 15:
    c->max_candidate_length = 90;
    break;
  default:
    g_assert_not_reached ();
  }
}

static void
test_copy_is_equal (void)
{
  g_autoptr(PlMediaConfig) config = full_config ();
  g_autoptr(PlMediaConfig) copy = pl_media_config_copy (config);
  g_autoptr(PlMediaConfig) fresh = pl_media_config_new ();
  g_autoptr(PlMediaConfig) fresh_copy = pl_media_config_copy (fresh);

  g_assert_true (pl_media_config_equal (config, config));
  g_assert_true (pl_media_config_equal (config, copy));
  g_assert_true (pl_media_config_equal (copy, config));
  g_assert_true (pl_media_config_equal (fresh, fresh_copy));
  g_assert_false (pl_media_config_equal (config, fresh));

  /* The copy is deep: its strings are its own. */
  g_assert_true (copy->source_device != config->source_device);
  g_assert_true (copy->ice_addresses != config->ice_addresses);
}

/* Each field alone makes two configs differ. */
static void
test_each_field (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++) {
    g_autoptr(PlMediaConfig) config = full_config ();
    g_autoptr(PlMediaConfig) changed = pl_media_config_copy (config);

    g_test_message ("field %s", fields[i]);
    change_field (changed, i);
    g_assert_false (pl_media_config_equal (config, changed));
    g_assert_false (pl_media_config_equal (changed, config));
  }
}

/* A string that is set differs from one that is not. */
static void
test_null_strings (void)
{
  g_autoptr(PlMediaConfig) config = full_config ();
  g_autoptr(PlMediaConfig) changed = pl_media_config_copy (config);

  g_clear_pointer (&changed->source_device, g_free);
  g_assert_false (pl_media_config_equal (config, changed));
  g_assert_false (pl_media_config_equal (changed, config));
  g_clear_pointer (&config->source_device, g_free);
  g_assert_true (pl_media_config_equal (config, changed));
}

/* A list that is NULL and one that is empty both mean none. */
static void
test_empty_lists (void)
{
  g_autoptr(PlMediaConfig) config = pl_media_config_new ();
  g_autoptr(PlMediaConfig) empty = pl_media_config_new ();

  g_assert_null (config->ice_addresses);
  empty->ice_addresses = g_new0 (char *, 1);
  empty->stun_servers = g_new0 (char *, 1);
  empty->turn_servers = g_new0 (char *, 1);
  g_assert_true (pl_media_config_equal (config, empty));
  g_assert_true (pl_media_config_equal (empty, config));

  set_list (&empty->stun_servers, "stun:127.0.0.1");
  g_assert_false (pl_media_config_equal (config, empty));
  g_assert_false (pl_media_config_equal (empty, config));
}

/* Host candidate addresses are taken only when every one is an IP address. */
static void
test_ice_addresses (void)
{
  g_autoptr(PlMediaConfig) config = pl_media_config_new ();
  g_autoptr(GError) error = NULL;
  const char *good[] = { "127.0.0.1", "::1", NULL };
  const char *bad[] = { "127.0.0.1", "localhost", NULL };

  g_assert_true (pl_media_config_take_ice_addresses (config, g_strdupv ((char **) good), &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (config->ice_addresses, good);

  g_assert_false (pl_media_config_take_ice_addresses (config, g_strdupv ((char **) bad), &error));
  g_assert_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "'localhost' is not an IP address"));
  g_assert_cmpstrv (config->ice_addresses, good);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/partyline/media-config/copy-is-equal", test_copy_is_equal);
  g_test_add_func ("/partyline/media-config/each-field", test_each_field);
  g_test_add_func ("/partyline/media-config/null-strings", test_null_strings);
  g_test_add_func ("/partyline/media-config/empty-lists", test_empty_lists);
  g_test_add_func ("/partyline/media-config/ice-addresses", test_ice_addresses);

  return g_test_run ();
}
