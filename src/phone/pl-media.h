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
  PL_SOURCE_DEVICE,  /* an audio input by name (pl_media_list_devices ()) */
} PlSourceKind;

typedef enum {
  PL_SINK_AUTO,
  PL_SINK_FAKE,
  PL_SINK_RECORD,
  PL_SINK_DEVICE,    /* an audio output by name (pl_media_list_devices ()) */
} PlSinkKind;

/* The media settings of a line; every call of the line is built from them.
 * A new field goes into pl_media_config_copy (), _free () and _equal ()
 * (pl-media.c), and into tests/unit/test-media-config.c. */
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
  char        *source_device;  /* PL_SOURCE_DEVICE: the input's name */
  char        *sink_device;    /* PL_SINK_DEVICE: the output's name */
  /* Per call, what a remote party can make the phone keep (pl-call.c):
   * ICE candidates queued before the remote description is applied, given
   * to webrtcbin in the whole call, and the length of one. */
  guint        max_pending_candidates;
  guint        max_remote_candidates;
  guint        max_candidate_length;
} PlMediaConfig;

#define PL_MEDIA_DEFAULT_MAX_PENDING_CANDIDATES 64
#define PL_MEDIA_DEFAULT_MAX_REMOTE_CANDIDATES  128
#define PL_MEDIA_DEFAULT_MAX_CANDIDATE_LENGTH   1024

/* Initializes GStreamer for the frontends that do not include it. */
gboolean       pl_media_init               (GError **error);

PlMediaConfig *pl_media_config_new         (void);
PlMediaConfig *pl_media_config_copy        (const PlMediaConfig *config);
void           pl_media_config_free        (PlMediaConfig *config);
/* Whether @a and @b describe the same media, field by field (a NULL list
 * and an empty one are the same). */
gboolean       pl_media_config_equal       (const PlMediaConfig *a,
                                            const PlMediaConfig *b);
/* Whether a TURN server's @uri names a user and a password
 * (turn://USER:PASSWORD@HOST:PORT): webrtcbin refuses one without them. */
gboolean       pl_media_turn_uri_has_credentials (GUri *uri);
gboolean       pl_media_config_set_source  (PlMediaConfig *config,
                                            const char    *spec,
                                            GError       **error);
gboolean       pl_media_config_set_sink    (PlMediaConfig *config,
                                            const char    *spec,
                                            GError       **error);
/* Takes @addresses (the host candidates' IP addresses) only if each one is
 * an IP address; otherwise leaves @config as it was. */
gboolean       pl_media_config_take_ice_addresses (PlMediaConfig *config,
                                                   GStrv          addresses,
                                                   GError       **error);

/* The names of the audio inputs (@sources) or outputs GStreamer's device
 * monitor sees now, for the specs device:NAME. It blocks while the monitor
 * probes (a sound server round trip): call it from a worker thread. */
GStrv          pl_media_list_devices       (gboolean sources);

/* The folder the pipelines/ fragments are read from. */
const char    *pl_media_get_pipeline_dir   (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMediaConfig, pl_media_config_free)

G_END_DECLS
