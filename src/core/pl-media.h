/* pl-media.h — what a call sends and plays, and the pipelines/ fragments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMediaConfig, pl_media_config_free)

G_END_DECLS
