/* pl-shared-source.c
 *
 * Calls that send the same thing (the calls of a line, and of every line of
 * the process with the same source) share one capture and one Opus encoder
 * instead of one each: the design measured in docs/webrtcbin-1.22.md
 * ("Measured on this platform": "Sharing one encoder while every call keeps
 * its own pipeline works"). Each call keeps its own pipeline and webrtcbin,
 * and so its own teardown; only the encoded RTP is shared, through a tee and a
 * proxysink/proxysrc pair per call.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-shared-source"

#include "config.h"

#include "pl-shared-source.h"
#include "pl-phone-error.h"
#include "pl-teardown.h"
#include "pl-worker.h"

#include <gst/rtp/rtp.h>

/* proxysrc's queue drops the oldest buffers beyond this, so that one call
 * that is not flowing yet cannot hold up the tee for all the others. */
#define BRANCH_QUEUE_BUFFERS 10

struct _PlSharedBranch {
  GstElement *proxysink;
  GstPad     *tee_pad;
};

struct _PlSharedSource
{
  GObject        parent_instance;

  PlMediaConfig *config;
  int            payload_type;
  GMainContext  *context;

  GMutex         lock;          /* the fields below; taken on worker threads */
  GstElement    *pipeline;
  GstElement    *tee;
  GstElement    *file_player;   /* --source file: a looping decoder */
  GBytes        *silence;       /* one frame of silence, encoded */
  guint          bus_watch_id;
  guint          file_watch_id;
};

G_DEFINE_FINAL_TYPE (PlSharedSource, pl_shared_source, G_TYPE_OBJECT)

enum {
  SIGNAL_FAILED,
  SIGNAL_LEVEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* A streaming thread. level (1.22) divides by the sample rate when it sees
 * EOS: an EOS before any caps (a microphone that cannot be opened) would be
 * a critical. */
static GstPadProbeReturn
on_level_sink_event (GstPad          *pad,
                     GstPadProbeInfo *info,
                     gpointer         user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && !gst_pad_has_current_caps (pad))
    return GST_PAD_PROBE_DROP;

  return GST_PAD_PROBE_OK;
}

/* The main context: the source cannot go on (the microphone cannot be
 * opened, the file cannot be played). */
static void
emit_failed (PlSharedSource *self,
             const char     *what,
             const GError   *cause)
{
  g_autoptr(GError) error = g_error_new (PL_CALL_ERROR, PL_CALL_ERROR_SOURCE, "%s: %s", what,
                                         cause->message);

  g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
}

/* --source file:PATH. The file is decoded by a pipeline of its own
 * (pipelines/source-file.pipeline ! appsink), paced by its clock and looped
 * with a seek on EOS; the shared pipeline reads it through a live appsrc that
 * timestamps on arrival. Looping inside the shared pipeline would need
 * seeks that flush into every call. */

/* The player's streaming thread. */
static GstFlowReturn
on_player_new_sample (GstElement *appsink,
                      gpointer    user_data)
{
  GstElement *appsrc = user_data;
  g_autoptr(GstSample) sample = NULL;
  g_autoptr(GstCaps) current = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  GstBuffer *buffer;
  GstCaps *caps;

  g_signal_emit_by_name (appsink, "pull-sample", &sample);
  if (sample == NULL)
    return GST_FLOW_EOS;

  caps = gst_sample_get_caps (sample);
  g_object_get (appsrc, "caps", &current, NULL);
  if (caps != NULL && (current == NULL || !gst_caps_is_equal (caps, current)))
    g_object_set (appsrc, "caps", caps, NULL);

  /* appsrc stamps the buffer with the shared pipeline's running time. */
  buffer = gst_buffer_copy (gst_sample_get_buffer (sample));
  GST_BUFFER_PTS (buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS (buffer) = GST_CLOCK_TIME_NONE;
  g_signal_emit_by_name (appsrc, "push-buffer", buffer, &ret);
  gst_buffer_unref (buffer);

  /* The other side may be stopping: the player goes on. */
  return GST_FLOW_OK;
}

/* The main context. */
static gboolean
on_player_bus_message (GstBus     *bus,
                       GstMessage *message,
                       gpointer    user_data)
{
  PlSharedSource *self = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS) {
    if (!gst_element_seek_simple (self->file_player, GST_FORMAT_TIME,
                                  GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0))
      g_message ("%s cannot be rewound: it plays once", self->config->file_path);
  } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) error = NULL;

    gst_message_parse_error (message, &error, NULL);
    g_message ("cannot play %s: %s", self->config->file_path, error->message);
    emit_failed (self, self->config->file_path, error);
  }

  return G_SOURCE_CONTINUE;
}

/* The main context. */
static gboolean
on_bus_message (GstBus     *bus,
                GstMessage *message,
                gpointer    user_data)
{
  PlSharedSource *self = user_data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) error = NULL;
    g_autofree char *debug = NULL;

    gst_message_parse_error (message, &error, &debug);
    g_message ("the audio source stopped: %s: %s", GST_OBJECT_NAME (message->src),
               error->message);
    GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS (GST_BIN (self->pipeline), GST_DEBUG_GRAPH_SHOW_ALL,
                                       "shared-source-error");
    emit_failed (self, GST_OBJECT_NAME (message->src), error);
  } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT &&
             g_strcmp0 (GST_OBJECT_NAME (message->src), "input-level") == 0) {
    const GValue *rms = gst_structure_get_value (gst_message_get_structure (message), "rms");

    /* A GValueArray, one value per channel: the loudest channel. */
    if (rms != NULL && G_VALUE_HOLDS_BOXED (rms)) {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      GValueArray *array = g_value_get_boxed (rms);
      double db = -G_MAXDOUBLE;

      for (guint i = 0; array != NULL && i < array->n_values; i++)
        if (G_VALUE_HOLDS_DOUBLE (&array->values[i]))
          db = MAX (db, g_value_get_double (&array->values[i]));
      G_GNUC_END_IGNORE_DEPRECATIONS
      if (array != NULL && array->n_values > 0)
        g_signal_emit (self, signals[SIGNAL_LEVEL], 0, db);
    }
  }

  return G_SOURCE_CONTINUE;
}

static GstElement *
build_file_source (PlSharedSource *self,
                   GError        **error)
{
  const char *fragment = pl_media_get_description ("source-file", error);
  g_autofree char *description = NULL;
  g_autoptr(GstElement) player = NULL;
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstElement) appsink = NULL;
  GstElement *appsrc;

  if (fragment == NULL)
    return NULL;

  description = g_strdup_printf ("%s ! appsink name=player-sink sync=true emit-signals=true "
                                 "max-buffers=4", fragment);
  player = gst_parse_launch_full (description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (player == NULL) {
    g_prefix_error (error, "pipelines/source-file.pipeline: ");
    return NULL;
  }
  gst_object_ref_sink (player);

  source = gst_bin_get_by_name (GST_BIN (player), "source");
  if (source != NULL)
    g_object_set (source, "location", self->config->file_path, NULL);

  appsrc = gst_element_factory_make ("appsrc", "source");
  if (appsrc == NULL) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE, "appsrc is not available");
    return NULL;
  }
  g_object_set (appsrc, "is-live", TRUE, "do-timestamp", TRUE, "format", GST_FORMAT_TIME,
                "max-bytes", (guint64) 48000 * 2 / 5, NULL);

  appsink = gst_bin_get_by_name (GST_BIN (player), "player-sink");
  g_signal_connect_object (appsink, "new-sample", G_CALLBACK (on_player_new_sample), appsrc, 0);

  self->file_player = g_steal_pointer (&player);

  return gst_object_ref_sink (appsrc);
}

static GstElement *
build_source (PlSharedSource *self,
              GError        **error)
{
  static const char * const fragments[] = {
    [PL_SOURCE_AUTO] = "source-auto",
    [PL_SOURCE_TONE] = "source-tone",
    [PL_SOURCE_SILENCE] = "source-silence",
  };
  g_autoptr(GstElement) bin = NULL;
  g_autoptr(GstElement) source = NULL;

  if (self->config->source == PL_SOURCE_FILE)
    return build_file_source (self, error);
  if (self->config->source == PL_SOURCE_DEVICE)
    return _pl_media_create_device_element (TRUE, self->config->source_device, error);

  bin = pl_media_build_bin (fragments[self->config->source], error);
  if (bin == NULL)
    return NULL;

  source = gst_bin_get_by_name (GST_BIN (bin), "source");
  if (source != NULL && self->config->source == PL_SOURCE_TONE)
    g_object_set (source, "freq", self->config->tone_hz, NULL);

  return g_steal_pointer (&bin);
}

static void
drop_pipelines_locked (PlSharedSource *self)
{
  g_clear_handle_id (&self->bus_watch_id, g_source_remove);
  g_clear_handle_id (&self->file_watch_id, g_source_remove);
  if (self->file_player != NULL)
    gst_element_set_state (self->file_player, GST_STATE_NULL);
  gst_clear_object (&self->file_player);
  if (self->pipeline != NULL)
    gst_element_set_state (self->pipeline, GST_STATE_NULL);
  gst_clear_object (&self->tee);
  gst_clear_object (&self->pipeline);
}

/* Encodes silence through audio-send.pipeline, so that a muted call can send
 * frames of the very duration and kind the others carry. A worker thread. */
static GBytes *
encode_silence (GError **error)
{
  /* The encoder needs a few frames before it settles on its silence frame. */
  const guint frames = 8;
  const char *send = pl_media_get_description ("audio-send", error);
  g_autofree char *description = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstElement) sink = NULL;
  g_autoptr(GstSample) last = NULL;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GBytes *payload = NULL;

  if (send == NULL)
    return NULL;

  description = g_strdup_printf ("audiotestsrc wave=silence num-buffers=%u ! %s ! "
                                 "appsink name=sink sync=false", frames * 4, send);
  pipeline = gst_parse_launch_full (description, NULL, GST_PARSE_FLAG_FATAL_ERRORS, error);
  if (pipeline == NULL)
    return NULL;
  gst_object_ref_sink (pipeline);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  for (guint i = 0; i < frames; i++) {
    GstSample *sample = NULL;

    g_signal_emit_by_name (sink, "pull-sample", &sample);
    if (sample == NULL)
      break;
    g_clear_pointer (&last, gst_sample_unref);
    last = sample;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);

  if (last != NULL && gst_rtp_buffer_map (gst_sample_get_buffer (last), GST_MAP_READ, &rtp)) {
    payload = g_bytes_new (gst_rtp_buffer_get_payload (&rtp),
                           gst_rtp_buffer_get_payload_len (&rtp));
    gst_rtp_buffer_unmap (&rtp);
  } else {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "audio-send.pipeline did not encode silence");
  }

  return payload;
}

/* Silence is encoded once per process and payload type: every shared source
 * with the same pipelines/ folder encodes it alike. */
static GBytes *
get_silence (int      payload_type,
             GError **error)
{
  static GMutex lock;
  static GBytes *silence[128];
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);

  if (silence[payload_type] == NULL)
    silence[payload_type] = encode_silence (error);

  return silence[payload_type] ? g_bytes_ref (silence[payload_type]) : NULL;
}

void
pl_shared_source_prewarm (int payload_type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) silence = NULL;

  g_return_if_fail (payload_type >= 0 && payload_type <= 127);

  silence = get_silence (payload_type, &error);
  if (silence == NULL)
    g_debug ("pre-warming the shared source: %s", error->message);
}

/* A worker thread, with the lock held. */
static gboolean
ensure_started_locked (PlSharedSource *self,
                       GError        **error)
{
  g_autoptr(GstElement) source = NULL;
  g_autoptr(GstElement) send = NULL;
  g_autoptr(GstElement) payloader = NULL;
  GstElement *convert, *level;
  g_autofree char *name = NULL;

  if (self->pipeline != NULL)
    return TRUE;

  if (self->silence == NULL && (self->silence = get_silence (self->payload_type, error)) == NULL)
    goto failed;

  source = build_source (self, error);
  if (source == NULL)
    goto failed;
  send = pl_media_build_bin ("audio-send", error);
  if (send == NULL)
    goto failed;

  name = g_strdup_printf ("shared-source-pt%d", self->payload_type);
  self->pipeline = gst_object_ref_sink (gst_pipeline_new (name));
  self->tee = gst_object_ref_sink (gst_element_factory_make ("tee", "tee"));
  g_object_set (self->tee, "allow-not-linked", TRUE, NULL);

  /* The level of what the calls send (the "level" signal). */
  convert = gst_element_factory_make ("audioconvert", "input-convert");
  level = gst_element_factory_make ("level", "input-level");
  if (convert == NULL || level == NULL) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "audioconvert or level is missing (gstreamer1.0-plugins-base, -good)");
    gst_clear_object (&convert);
    gst_clear_object (&level);
    goto failed;
  }
  g_object_set (level, "interval", (guint64) 100 * GST_MSECOND, "post-messages", TRUE, NULL);
  {
    g_autoptr(GstPad) level_sink = gst_element_get_static_pad (level, "sink");

    gst_pad_add_probe (level_sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_level_sink_event,
                       NULL, NULL);
  }

  gst_bin_add_many (GST_BIN (self->pipeline), source, convert, level, send, self->tee, NULL);
  if (!gst_element_link_many (source, convert, level, send, self->tee, NULL)) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "could not link the source, audio-send and the tee");
    goto failed;
  }
  payloader = gst_bin_get_by_name (GST_BIN (send), "payloader");
  if (payloader != NULL)
    g_object_set (payloader, "pt", self->payload_type, NULL);

  if (self->file_player != NULL &&
      gst_element_set_state (self->file_player, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_SOURCE, "cannot play %s",
                 self->config->file_path);
    goto failed;
  }
  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_SOURCE,
                 "the audio source could not start (is the microphone available?)");
    goto failed;
  }

  self->bus_watch_id = pl_media_add_bus_watch (self->pipeline, self->context,
                                               on_bus_message, self);
  if (self->file_player != NULL)
    self->file_watch_id = pl_media_add_bus_watch (self->file_player, self->context,
                                                  on_player_bus_message, self);
  GST_DEBUG_BIN_TO_DOT_FILE_WITH_TS (GST_BIN (self->pipeline), GST_DEBUG_GRAPH_SHOW_ALL, name);

  return TRUE;

failed:
  /* The next call tries again. */
  drop_pipelines_locked (self);
  return FALSE;
}

static void
set_null_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!pl_worker_set_null_finish (result, &error))
    g_warning ("the shared source: %s", error->message);

  /* Its last ref, on the main thread; a `settle` waits for this. */
  gst_object_unref (user_data);
  pl_teardown_lingering_release ();
}

static void
pl_shared_source_dispose (GObject *object)
{
  PlSharedSource *self = PL_SHARED_SOURCE (object);

  g_clear_handle_id (&self->bus_watch_id, g_source_remove);
  g_clear_handle_id (&self->file_watch_id, g_source_remove);

  /* The last call's pipeline is in NULL: now the shared one goes, off the
   * main loop, and its last ref is dropped back here. */
  if (self->file_player != NULL) {
    GstElement *player = g_steal_pointer (&self->file_player);

    pl_teardown_lingering_hold ();
    pl_worker_set_null_async (player, set_null_cb, player);
  }
  if (self->pipeline != NULL) {
    GstElement *pipeline = g_steal_pointer (&self->pipeline);

    pl_teardown_lingering_hold ();
    pl_worker_set_null_async (pipeline, set_null_cb, pipeline);
  }
  gst_clear_object (&self->tee);

  G_OBJECT_CLASS (pl_shared_source_parent_class)->dispose (object);
}

static void
pl_shared_source_finalize (GObject *object)
{
  PlSharedSource *self = PL_SHARED_SOURCE (object);

  g_clear_pointer (&self->config, pl_media_config_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->silence, g_bytes_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (pl_shared_source_parent_class)->finalize (object);
}

static void
pl_shared_source_class_init (PlSharedSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_shared_source_dispose;
  object_class->finalize = pl_shared_source_finalize;

  /* (const GError *: PL_CALL_ERROR_SOURCE) on the main context. */
  signals[SIGNAL_FAILED] =
    g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  /* (dB) what the source captures, ten times a second, on the main context. */
  signals[SIGNAL_LEVEL] =
    g_signal_new ("level", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);
}

static void
pl_shared_source_init (PlSharedSource *self)
{
  g_mutex_init (&self->lock);
}

/* What a source sends, as a key: two configs with the same key send the same. */
static char *
source_key (const PlMediaConfig *config,
            int                  payload_type)
{
  switch (config->source) {
  case PL_SOURCE_TONE:
    return g_strdup_printf ("%d tone %.3f", payload_type, config->tone_hz);
  case PL_SOURCE_FILE:
    return g_strdup_printf ("%d file %s", payload_type, config->file_path);
  case PL_SOURCE_SILENCE:
    return g_strdup_printf ("%d silence", payload_type);
  case PL_SOURCE_DEVICE:
    return g_strdup_printf ("%d device %s", payload_type, config->source_device);
  case PL_SOURCE_AUTO:
  default:
    return g_strdup_printf ("%d auto", payload_type);
  }
}

/* key → GWeakRef: a source lives as long as a call holds it. */
static GHashTable *registry;

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

PlSharedSource *
pl_shared_source_get (const PlMediaConfig *config,
                      int                  payload_type)
{
  g_autofree char *key = NULL;
  PlSharedSource *self;
  GWeakRef *ref;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (payload_type >= 0 && payload_type <= 127, NULL);

  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, weak_ref_free);

  key = source_key (config, payload_type);
  ref = g_hash_table_lookup (registry, key);
  if (ref != NULL && (self = g_weak_ref_get (ref)) != NULL)
    return self;

  self = g_object_new (PL_TYPE_SHARED_SOURCE, NULL);
  self->config = pl_media_config_copy (config);
  self->payload_type = payload_type;
  self->context = g_main_context_ref_thread_default ();

  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  g_hash_table_replace (registry, g_steal_pointer (&key), ref);

  return self;
}

int
pl_shared_source_get_payload_type (PlSharedSource *self)
{
  g_return_val_if_fail (PL_IS_SHARED_SOURCE (self), -1);

  return self->payload_type;
}

GBytes *
pl_shared_source_get_silence (PlSharedSource *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_return_val_if_fail (PL_IS_SHARED_SOURCE (self), NULL);

  return self->silence ? g_bytes_ref (self->silence) : NULL;
}

static void
make_queue_leaky (GstElement *proxysrc)
{
  g_autoptr(GstIterator) iter = gst_bin_iterate_elements (GST_BIN (proxysrc));
  GValue item = G_VALUE_INIT;

  while (gst_iterator_next (iter, &item) == GST_ITERATOR_OK) {
    GstElement *child = g_value_get_object (&item);

    if (g_object_class_find_property (G_OBJECT_GET_CLASS (child), "leaky"))
      g_object_set (child,
                    "leaky", 2 /* downstream: drop the oldest */,
                    "max-size-buffers", BRANCH_QUEUE_BUFFERS,
                    "max-size-bytes", 0,
                    "max-size-time", (guint64) 0,
                    NULL);
    g_value_reset (&item);
  }
  g_value_unset (&item);
}

PlSharedBranch *
pl_shared_source_add_branch (PlSharedSource *self,
                             GstElement     *call_pipeline,
                             GstElement    **out_src,
                             GError        **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GstClock) clock = NULL;
  GstElement *proxysink;
  GstElement *proxysrc;
  PlSharedBranch *branch;

  g_return_val_if_fail (PL_IS_SHARED_SOURCE (self), NULL);
  g_return_val_if_fail (GST_IS_PIPELINE (call_pipeline), NULL);
  g_return_val_if_fail (out_src != NULL, NULL);

  if (!ensure_started_locked (self, error))
    return NULL;

  proxysink = gst_element_factory_make ("proxysink", NULL);
  proxysrc = gst_element_factory_make ("proxysrc", "source");
  if (proxysink == NULL || proxysrc == NULL) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "proxysink/proxysrc are not available (gstreamer1.0-plugins-bad)");
    gst_clear_object (&proxysink);
    gst_clear_object (&proxysrc);
    return NULL;
  }
  g_object_set (proxysrc, "proxysink", proxysink, NULL);
  make_queue_leaky (proxysrc);

  /* Stays in NULL, unlinked, until the call's pipeline is PLAYING. */
  gst_bin_add (GST_BIN (self->pipeline), proxysink);

  /* The same clock and base time, or nicesink (sync=TRUE) would hold every
   * packet (docs/webrtcbin-1.22.md, "Measured on this platform": the clock). */
  clock = gst_pipeline_get_clock (GST_PIPELINE (self->pipeline));
  gst_pipeline_use_clock (GST_PIPELINE (call_pipeline), clock);
  gst_element_set_base_time (call_pipeline, gst_element_get_base_time (self->pipeline));
  gst_element_set_start_time (call_pipeline, GST_CLOCK_TIME_NONE);

  branch = g_new0 (PlSharedBranch, 1);
  branch->proxysink = gst_object_ref (proxysink);
  *out_src = gst_object_ref_sink (proxysrc);

  return branch;
}

gboolean
pl_shared_source_connect (PlSharedSource *self,
                          PlSharedBranch *branch,
                          GError        **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GstPad) tee_sink = NULL;
  g_autoptr(GstPad) sink_pad = NULL;

  g_return_val_if_fail (PL_IS_SHARED_SOURCE (self), FALSE);
  g_return_val_if_fail (branch != NULL && branch->tee_pad == NULL, FALSE);

  if (!gst_element_sync_state_with_parent (branch->proxysink)) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE, "could not start the proxysink");
    return FALSE;
  }

  /* Under the stream lock of the tee's sink pad. A new tee pad gets the
   * sticky events stored on the sink pad, but the sink pad stores one only
   * after the tee has sent it on to its pads (gstpad.c, 1.22.0), both under
   * that lock: a segment caught in between (a source that just started)
   * would reach the new pad neither way, and its first buffer would come
   * before any segment ("Got data flow before segment event", fatal in the
   * tests). The lock waits for at most one buffer going through the tee;
   * nothing on the shared source's streaming thread takes self->lock. */
  tee_sink = gst_element_get_static_pad (self->tee, "sink");
  GST_PAD_STREAM_LOCK (tee_sink);
  branch->tee_pad = gst_element_request_pad_simple (self->tee, "src_%u");
  GST_PAD_STREAM_UNLOCK (tee_sink);
  sink_pad = gst_element_get_static_pad (branch->proxysink, "sink");
  if (gst_pad_link (branch->tee_pad, sink_pad) != GST_PAD_LINK_OK) {
    g_set_error (error, PL_CALL_ERROR, PL_CALL_ERROR_PIPELINE,
                 "could not link the shared source to the call");
    return FALSE;
  }

  return TRUE;
}

typedef struct {
  GMutex   lock;
  GCond    cond;
  gboolean done;
  GstPad  *sink_pad;
} Unlink;

/* A streaming thread of the shared pipeline (or this one, when idle). */
static GstPadProbeReturn
on_tee_pad_idle (GstPad          *pad,
                 GstPadProbeInfo *info,
                 gpointer         user_data)
{
  Unlink *unlink = user_data;

  gst_pad_unlink (pad, unlink->sink_pad);

  g_mutex_lock (&unlink->lock);
  unlink->done = TRUE;
  g_cond_signal (&unlink->cond);
  g_mutex_unlock (&unlink->lock);

  return GST_PAD_PROBE_REMOVE;
}

void
pl_shared_source_remove_branch (PlSharedSource *self,
                                PlSharedBranch *branch)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_return_if_fail (PL_IS_SHARED_SOURCE (self));
  g_return_if_fail (branch != NULL);

  if (branch->tee_pad != NULL) {
    g_autoptr(GstPad) sink_pad = gst_element_get_static_pad (branch->proxysink, "sink");
    Unlink unlink = { .sink_pad = sink_pad };

    g_mutex_init (&unlink.lock);
    g_cond_init (&unlink.cond);

    /* Unlink between two buffers: the other calls never see a gap. */
    if (gst_pad_is_linked (branch->tee_pad)) {
      gst_pad_add_probe (branch->tee_pad, GST_PAD_PROBE_TYPE_IDLE, on_tee_pad_idle, &unlink, NULL);
      g_mutex_lock (&unlink.lock);
      while (!unlink.done)
        g_cond_wait (&unlink.cond, &unlink.lock);
      g_mutex_unlock (&unlink.lock);
    }

    g_mutex_clear (&unlink.lock);
    g_cond_clear (&unlink.cond);
  }

  gst_element_set_state (branch->proxysink, GST_STATE_NULL);
  if (self->pipeline != NULL)
    gst_bin_remove (GST_BIN (self->pipeline), branch->proxysink);
  if (branch->tee_pad != NULL && self->tee != NULL)
    gst_element_release_request_pad (self->tee, branch->tee_pad);

  gst_clear_object (&branch->tee_pad);
  gst_clear_object (&branch->proxysink);
  g_free (branch);
}
