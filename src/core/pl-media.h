/* pl-media.h — what a call sends and plays, and the pipelines/ fragments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum {
  PL_SOURCE_AUTO,
  PL_SOURCE_TONE,
  PL_SOURCE_SILENCE,
  PL_SOURCE_FILE,
} PlSourceKind;

typedef enum {
  PL_SINK_AUTO,
  PL_SINK_FAKE,
  PL_SINK_RECORD,
} PlSinkKind;

/* The media settings of a line; every call of the line is built from them. */
typedef struct {
  PlSourceKind source;
  double       tone_hz;
  char        *file_path;
  PlSinkKind   sink;
  char        *record_dir;
  gboolean     analyze;
  GStrv        ice_addresses;  /* host candidates only on these, or NULL for all */
  GStrv        stun_servers;
  GStrv        turn_servers;
  guint        latency_ms;     /* webrtcbin jitter buffer */
  guint        stun_pacing_ms; /* libnice Ta; RFC 8445 floor is 5 ms */
} PlMediaConfig;

/* Initializes GStreamer for the frontends that do not include it. */
gboolean       pl_media_init               (GError **error);

PlMediaConfig *pl_media_config_new         (void);
PlMediaConfig *pl_media_config_copy        (const PlMediaConfig *config);
void           pl_media_config_free        (PlMediaConfig *config);
gboolean       pl_media_config_set_source  (PlMediaConfig *config,
                                            const char    *spec,
                                            GError       **error);
gboolean       pl_media_config_set_sink    (PlMediaConfig *config,
                                            const char    *spec,
                                            GError       **error);

/* The folder the pipelines/ fragments are read from. */
const char    *pl_media_get_pipeline_dir   (void);

/* The text of pipelines/@name.pipeline, read once and kept. */
const char    *pl_media_get_description    (const char *name,
                                            GError    **error);

/* A bin (a full ref) built from pipelines/@name.pipeline, unlinked pads ghosted. */
GstElement    *pl_media_build_bin          (const char *name,
                                            GError    **error);

/* Generates the process's DTLS key and certificate on a worker thread (once
 * per process), so that the first call of a process is not slower than the
 * others; completes when it is ready. */
void           pl_media_prewarm_async      (GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean       pl_media_prewarm_finish     (GAsyncResult *result,
                                            GError      **error);

/* The dominant frequency in a `spectrum` element message, interpolated
 * between bands. Returns FALSE when the message carries no magnitudes. */
gboolean       pl_media_spectrum_peak      (const GstStructure *s,
                                            guint               rate,
                                            guint               bands,
                                            double             *out_hz,
                                            double             *out_db);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMediaConfig, pl_media_config_free)

G_END_DECLS
