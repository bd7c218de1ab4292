/* pl-media.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-media"

#include "config.h"

#include "pl-media-private.h"
#include "pl-phone-error.h"

#include <math.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LATENCY_MS 40
#define DEFAULT_STUN_PACING_MS 5

G_LOCK_DEFINE_STATIC (descriptions);
static GHashTable *descriptions;

static guint
env_uint (const char *name,
          guint       fallback,
          guint       min,
          guint       max)
{
  const char *text = g_getenv (name);
  guint64 value;

  if (text == NULL || *text == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL)) {
    /* A person's setting, not a programming error: said, not fatal under
     * G_DEBUG=fatal-warnings. */
    g_message ("ignoring %s=%s (expected %u to %u)", name, text, min, max);
    return fallback;
  }

  return value;
}

gboolean
pl_media_init (GError **error)
{
  /* Before GStreamer's DTLS elements first use OpenSSL: no cleanup of
   * OpenSSL at exit. It would run while a DTLS connection's timer thread
   * may still be exiting, and leak that thread's OpenSSL error state
   * (docs/webrtcbin-1.22.md, bug 24). The process's end frees it all. */
  if (!OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL))
    g_debug ("OpenSSL did not initialize; it will clean up at exit");

  return gst_init_check (NULL, NULL, error);
}

PlMediaConfig *
pl_media_config_new (void)
{
  PlMediaConfig *config = g_new0 (PlMediaConfig, 1);

  config->source = PL_SOURCE_AUTO;
  config->sink = PL_SINK_AUTO;
  /* Tuning knobs for measurement (bench/); the defaults come from it. */
  config->latency_ms = env_uint ("PARTYLINE_JITTER_LATENCY_MS", DEFAULT_LATENCY_MS, 0, 2000);
  config->stun_pacing_ms = env_uint ("PARTYLINE_ICE_PACING_MS", DEFAULT_STUN_PACING_MS, 1, 100);
  config->max_pending_candidates = PL_MEDIA_DEFAULT_MAX_PENDING_CANDIDATES;
  config->max_remote_candidates = PL_MEDIA_DEFAULT_MAX_REMOTE_CANDIDATES;
  config->max_candidate_length = PL_MEDIA_DEFAULT_MAX_CANDIDATE_LENGTH;

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
  copy->source_device = g_strdup (config->source_device);
  copy->sink_device = g_strdup (config->sink_device);

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
  g_free (config->source_device);
  g_free (config->sink_device);
  g_free (config);
}

/* NULL and an empty list both mean "none". */
static gboolean
strv_equal0 (const char * const *a,
             const char * const *b)
{
  if (a == NULL || b == NULL)
    return (a == NULL || a[0] == NULL) && (b == NULL || b[0] == NULL);

  return g_strv_equal (a, b);
}

gboolean
pl_media_turn_uri_has_credentials (GUri *uri)
{
  const char *userinfo;

  g_return_val_if_fail (uri != NULL, FALSE);

  userinfo = g_uri_get_userinfo (uri);

  return userinfo != NULL && strchr (userinfo, ':') != NULL;
}

gboolean
pl_media_config_equal (const PlMediaConfig *a,
                       const PlMediaConfig *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  /* Every field, in the order of the struct (pl-media.h). */
  return a->source == b->source &&
         a->tone_hz == b->tone_hz &&
         g_strcmp0 (a->file_path, b->file_path) == 0 &&
         a->sink == b->sink &&
         g_strcmp0 (a->record_dir, b->record_dir) == 0 &&
         a->analyze == b->analyze &&
         strv_equal0 ((const char * const *) a->ice_addresses,
                      (const char * const *) b->ice_addresses) &&
         strv_equal0 ((const char * const *) a->stun_servers,
                      (const char * const *) b->stun_servers) &&
         strv_equal0 ((const char * const *) a->turn_servers,
                      (const char * const *) b->turn_servers) &&
         a->latency_ms == b->latency_ms &&
         a->stun_pacing_ms == b->stun_pacing_ms &&
         g_strcmp0 (a->source_device, b->source_device) == 0 &&
         g_strcmp0 (a->sink_device, b->sink_device) == 0 &&
         a->max_pending_candidates == b->max_pending_candidates &&
         a->max_remote_candidates == b->max_remote_candidates &&
         a->max_candidate_length == b->max_candidate_length;
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
  } else if (g_str_has_prefix (spec, "device:") && spec[strlen ("device:")] != '\0') {
    config->source = PL_SOURCE_DEVICE;
    g_free (config->source_device);
    config->source_device = g_strdup (spec + strlen ("device:"));
  } else {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "unknown source '%s' (expected tone:FREQ, silence, file:PATH, device:NAME or auto)",
                 spec);
    return FALSE;
  }

  return TRUE;
}

gboolean
pl_media_config_take_ice_addresses (PlMediaConfig *config,
                                    GStrv          addresses,
                                    GError       **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++) {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string (addresses[i]);

    if (address == NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--ice-address '%s' is not an IP address", addresses[i]);
      g_strfreev (addresses);
      return FALSE;
    }
  }

  g_strfreev (config->ice_addresses);
  config->ice_addresses = addresses;

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
  } else if (g_str_has_prefix (spec, "device:") && spec[strlen ("device:")] != '\0') {
    config->sink = PL_SINK_DEVICE;
    g_free (config->sink_device);
    config->sink_device = g_strdup (spec + strlen ("device:"));
  } else {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "unknown sink '%s' (expected auto, fake, record:DIR or device:NAME)", spec);
    return FALSE;
  }

  return TRUE;
}

/* The devices of one class the monitor sees now (GstDevice, full refs). */
static GList *
probe_devices (gboolean sources)
{
  g_autoptr(GstDeviceMonitor) monitor = gst_device_monitor_new ();
  GList *devices;

  gst_device_monitor_add_filter (monitor, sources ? "Audio/Source" : "Audio/Sink", NULL);
  if (!gst_device_monitor_start (monitor))
    return NULL;
  devices = gst_device_monitor_get_devices (monitor);
  gst_device_monitor_stop (monitor);

  return devices;
}

GStrv
pl_media_list_devices (gboolean sources)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GList *devices = probe_devices (sources);

  for (GList *l = devices; l != NULL; l = l->next) {
    char *name = gst_device_get_display_name (l->data);

    if (name != NULL && g_hash_table_add (seen, name))
      g_strv_builder_add (builder, name);
  }
  g_list_free_full (devices, gst_object_unref);

  return g_strv_builder_end (builder);
}

GstElement *
_pl_media_create_device_element (gboolean    source,
                                 const char *name,
                                 GError    **error)
{
  GList *devices = probe_devices (source);
  GstElement *element = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  for (GList *l = devices; l != NULL && element == NULL; l = l->next) {
    g_autofree char *display_name = gst_device_get_display_name (l->data);

    if (g_strcmp0 (display_name, name) == 0)
      element = gst_device_create_element (l->data, source ? "source" : "sink");
  }
  g_list_free_full (devices, gst_object_unref);

  if (element == NULL) {
    g_set_error (error, PL_CALL_ERROR, source ? PL_CALL_ERROR_SOURCE : PL_CALL_ERROR_PIPELINE,
                 source ? "the audio input '%s' is not connected"
                        : "the audio output '%s' is not connected", name);
    return NULL;
  }

  return gst_object_ref_sink (element);
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

guint
pl_media_add_bus_watch (GstElement   *pipeline,
                        GMainContext *context,
                        GstBusFunc    func,
                        gpointer      user_data)
{
  g_autoptr(GstBus) bus = gst_pipeline_get_bus (GST_PIPELINE (pipeline));
  g_autoptr(GSource) source = gst_bus_create_watch (bus);

  g_source_set_callback (source, G_SOURCE_FUNC (func), user_data, NULL);
  return g_source_attach (source, context);
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
