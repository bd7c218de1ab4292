/* pl-media.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-media"

#include "config.h"

#include "pl-media.h"

#include <math.h>
#include <stdlib.h>

#define DEFAULT_LATENCY_MS 40
#define DEFAULT_STUN_PACING_MS 5

G_LOCK_DEFINE_STATIC (descriptions);
static GHashTable *descriptions;

PlMediaConfig *
pl_media_config_new (void)
{
  PlMediaConfig *config = g_new0 (PlMediaConfig, 1);

  config->source = PL_SOURCE_AUTO;
  config->sink = PL_SINK_AUTO;
  config->latency_ms = DEFAULT_LATENCY_MS;
  config->stun_pacing_ms = DEFAULT_STUN_PACING_MS;

  return config;
}

PlMediaConfig *
pl_media_config_copy (const PlMediaConfig *config)
{
  PlMediaConfig *copy;

  g_return_val_if_fail (config != NULL, NULL);

  copy = g_memdup2 (config, sizeof *config);
  copy->file_path = g_strdup (config->file_path);
  copy->record_dir = g_strdup (config->record_dir);
  copy->ice_addresses = g_strdupv (config->ice_addresses);
  copy->stun_servers = g_strdupv (config->stun_servers);
  copy->turn_servers = g_strdupv (config->turn_servers);

  return copy;
}

void
pl_media_config_free (PlMediaConfig *config)
{
  if (config == NULL)
    return;

  g_free (config->file_path);
  g_free (config->record_dir);
  g_strfreev (config->ice_addresses);
  g_strfreev (config->stun_servers);
  g_strfreev (config->turn_servers);
  g_free (config);
}

gboolean
pl_media_config_set_source (PlMediaConfig *config,
                            const char    *spec,
                            GError       **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);

  if (g_str_equal (spec, "auto")) {
    config->source = PL_SOURCE_AUTO;
  } else if (g_str_equal (spec, "silence")) {
    config->source = PL_SOURCE_SILENCE;
  } else if (g_str_has_prefix (spec, "tone:")) {
    const char *text = spec + strlen ("tone:");
    char *end = NULL;
    double hz = g_ascii_strtod (text, &end);

    if (*text == '\0' || end == NULL || *end != '\0' || !isfinite (hz) || hz < 1 || hz > 20000) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "invalid tone frequency '%s' (expected 1 to 20000 Hz)", text);
      return FALSE;
    }
    config->source = PL_SOURCE_TONE;
    config->tone_hz = hz;
  } else if (g_str_has_prefix (spec, "file:")) {
    const char *path = spec + strlen ("file:");

    if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "cannot read source file '%s'", path);
      return FALSE;
    }
    config->source = PL_SOURCE_FILE;
    g_free (config->file_path);
    config->file_path = g_canonicalize_filename (path, NULL);
  } else {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "unknown source '%s' (expected tone:FREQ, silence, file:PATH or auto)", spec);
    return FALSE;
  }

  return TRUE;
}

gboolean
pl_media_config_set_sink (PlMediaConfig *config,
                          const char    *spec,
                          GError       **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (spec != NULL, FALSE);

  if (g_str_equal (spec, "auto")) {
    config->sink = PL_SINK_AUTO;
  } else if (g_str_equal (spec, "fake")) {
    config->sink = PL_SINK_FAKE;
  } else if (g_str_has_prefix (spec, "record:")) {
    const char *dir = spec + strlen ("record:");

    if (!g_file_test (dir, G_FILE_TEST_IS_DIR)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "record folder '%s' does not exist", dir);
      return FALSE;
    }
    config->sink = PL_SINK_RECORD;
    g_free (config->record_dir);
    config->record_dir = g_canonicalize_filename (dir, NULL);
  } else {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "unknown sink '%s' (expected auto, fake or record:DIR)", spec);
    return FALSE;
  }

  return TRUE;
}

const char *
pl_media_get_pipeline_dir (void)
{
  static const char *dir;

  if (g_once_init_enter (&dir)) {
    const char *found = g_getenv ("PARTYLINE_PIPELINE_DIR");

    /* An uninstalled build reads the source tree, an installed one its data dir. */
    if (found == NULL || *found == '\0')
      found = g_file_test (PL_SOURCE_PIPELINE_DIR, G_FILE_TEST_IS_DIR)
              ? PL_SOURCE_PIPELINE_DIR : PL_PIPELINE_DIR;

    g_once_init_leave (&dir, g_strdup (found));
  }

  return dir;
}

const char *
pl_media_get_description (const char *name,
                          GError    **error)
{
  const char *description;

  g_return_val_if_fail (name != NULL, NULL);

  G_LOCK (descriptions);

  if (descriptions == NULL)
    descriptions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  description = g_hash_table_lookup (descriptions, name);

  if (description == NULL) {
    g_autofree char *file = g_strconcat (name, ".pipeline", NULL);
    g_autofree char *path = g_build_filename (pl_media_get_pipeline_dir (), file, NULL);
    g_autofree char *text = NULL;

    if (g_file_get_contents (path, &text, NULL, error)) {
      g_strstrip (text);
      description = text;
      g_hash_table_insert (descriptions, g_strdup (name), g_steal_pointer (&text));
    }
  }

  G_UNLOCK (descriptions);

  return description;
}

GstElement *
pl_media_build_bin (const char *name,
                    GError    **error)
{
  const char *description;
  GstElement *bin;

  description = pl_media_get_description (name, error);
  if (description == NULL)
    return NULL;

  bin = gst_parse_bin_from_description_full (description, TRUE, NULL,
                                             GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (bin == NULL) {
    g_prefix_error (error, "pipelines/%s.pipeline: ", name);
    return NULL;
  }
  gst_object_set_name (GST_OBJECT (bin), name);

  return gst_object_ref_sink (bin);
}

static gpointer
prewarm_thread (gpointer data)
{
  /* The first dtlsdec of a process generates its RSA key and certificate; later
   * ones share it (guide: "First use of DTLS … pre-warm at start-up"). */
  g_autoptr(GstElement) dtlsdec = gst_element_factory_make ("dtlsdec", NULL);

  if (dtlsdec != NULL)
    gst_object_ref_sink (dtlsdec);
  else
    g_debug ("dtlsdec is not available; the first call will generate the key");

  return NULL;
}

void
pl_media_prewarm (void)
{
  static gsize done;

  if (g_once_init_enter (&done)) {
    g_autoptr(GThread) thread = g_thread_new ("pl-prewarm", prewarm_thread, NULL);

    g_once_init_leave (&done, 1);
  }
}

gboolean
pl_media_spectrum_peak (const GstStructure *s,
                        guint               rate,
                        guint               bands,
                        double             *out_hz,
                        double             *out_db)
{
  const GValue *magnitudes;
  guint n, best = 0;
  double best_db = -G_MAXDOUBLE;
  double delta = 0.0;
  double width;

  magnitudes = gst_structure_get_value (s, "magnitude");
  if (magnitudes == NULL || !GST_VALUE_HOLDS_LIST (magnitudes))
    return FALSE;

  n = gst_value_list_get_size (magnitudes);
  if (n < 3 || rate == 0)
    return FALSE;

  for (guint i = 1; i < n - 1; i++) {
    double db = g_value_get_float (gst_value_list_get_value (magnitudes, i));

    if (db > best_db) {
      best_db = db;
      best = i;
    }
  }

  /* Parabolic interpolation over the peak band and its neighbours. */
  if (best > 0 && best < n - 1) {
    double a = g_value_get_float (gst_value_list_get_value (magnitudes, best - 1));
    double c = g_value_get_float (gst_value_list_get_value (magnitudes, best + 1));
    double denominator = a - 2 * best_db + c;

    if (denominator < 0)
      delta = CLAMP (0.5 * (a - c) / denominator, -0.5, 0.5);
  }

  width = (rate / 2.0) / (bands ? bands : n);
  *out_hz = (best + delta) * width;
  *out_db = best_db;

  return TRUE;
}
