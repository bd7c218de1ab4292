/* pljb.c — a GStreamer tracer: what each jitter buffer took, in what state
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A debugging aid, not built with the project (HACKING.md, Debug). For every
 * rtpjitterbuffer it records its state changes (with its parent's target)
 * and each buffer chained into its sink_rtcp pad (flow, state, target). When
 * a jitter buffer goes, it appends that history to $PLJB_FILE.<pid> if RTCP
 * was taken after its last PAUSED_TO_READY (with PLJB_ALL=1, always). That
 * is how bug 25 of docs/webrtcbin-1.22.md was shown.
 *
 *   gcc -shared -fPIC -O1 -g -o libgstpljb.so pljb.c \
 *       $(pkg-config --cflags --libs gstreamer-1.0)
 *   GST_PLUGIN_PATH=$PWD GST_TRACERS=pljb PLJB_FILE=/tmp/jb \
 *       meson test -C build-asan --setup asan group-hangup
 */
#include <gst/gst.h>
#include <stdio.h>
#include <unistd.h>

typedef struct { char kind; int a, b, c; guint64 ts; gpointer thr; } Ev;
typedef struct { char name[64]; int n; Ev ev[400]; int total; } Jb;

static GMutex lock;
static GHashTable *jbs;
static GType jb_type;

typedef struct { GstTracer parent; } PlJb;
typedef struct { GstTracerClass parent_class; } PlJbClass;
G_DEFINE_TYPE (PlJb, pl_jb, GST_TYPE_TRACER)

static void
add (Jb *j, char kind, int a, int b, int c, guint64 ts)
{
  Ev *e;
  j->total++;
  if (j->n == G_N_ELEMENTS (j->ev)) {
    memmove (j->ev + 100, j->ev + 200, 200 * sizeof (Ev));  /* keep first 100 and last 200 */
    j->n = 300;
  }
  e = &j->ev[j->n++];
  e->kind = kind; e->a = a; e->b = b; e->c = c; e->ts = ts; e->thr = g_thread_self ();
}

/* gst_element_state_get_name () allocates (and leaks) a name for a value that
 * is not a state, such as the -1 written for an element without a parent. */
static const char *
state_name (int state)
{
  return state >= GST_STATE_VOID_PENDING && state <= GST_STATE_PLAYING
         ? gst_element_state_get_name (state) : "none";
}

static void
out (Jb *j, const char *why)
{
  char path[256];
  FILE *f;
  const char *tmpl = g_getenv ("PLJB_FILE");
  if (tmpl == NULL) return;
  snprintf (path, sizeof path, "%s.%d", tmpl, (int) getpid ());
  f = fopen (path, "a");
  if (f == NULL) return;
  fprintf (f, "=== %s %s events=%d\n", j->name, why, j->total);
  for (int i = 0; i < j->n; i++) {
    Ev *e = &j->ev[i];
    if (e->kind == 'S')
      fprintf (f, "  %.6f %p state %s->%s ret=%d parent-target=%s\n", e->ts / 1e9, e->thr,
               state_name (GST_STATE_TRANSITION_CURRENT (e->a)),
               state_name (GST_STATE_TRANSITION_NEXT (e->a)), e->b,
               state_name (e->c));
    else if (e->kind == 'R')
      fprintf (f, "  %.6f %p rtcp flow=%d state=%s target=%s\n", e->ts / 1e9, e->thr, e->a,
               state_name (e->b), state_name (e->c));
    else if (e->kind == 'P')
      fprintf (f, "  %.6f %p sink_rtcp pad added, state=%s target=%s\n", e->ts / 1e9, e->thr,
               state_name (e->b), state_name (e->c));
  }
  fclose (f);
}

static void
on_gone (gpointer data, GObject *where)
{
  Jb *j;
  int last_p2r = -1, last_ok = -1;
  g_mutex_lock (&lock);
  j = g_hash_table_lookup (jbs, where);
  g_hash_table_remove (jbs, where);
  g_mutex_unlock (&lock);
  if (j == NULL) return;
  for (int i = 0; i < j->n; i++) {
    if (j->ev[i].kind == 'S' && j->ev[i].a == GST_STATE_CHANGE_PAUSED_TO_READY) last_p2r = i;
    if (j->ev[i].kind == 'R' && j->ev[i].a == GST_FLOW_OK) last_ok = i;
  }
  if (last_ok > last_p2r)
    out (j, "SUSPECT");
  else if (g_getenv ("PLJB_ALL"))
    out (j, "ok");
  g_free (j);
}

static void
on_new (GstTracer *t, guint64 ts, GstElement *e)
{
  Jb *j;
  if (G_OBJECT_TYPE (e) != jb_type) return;
  j = g_new0 (Jb, 1);
  g_strlcpy (j->name, GST_OBJECT_NAME (e) ? GST_OBJECT_NAME (e) : "?", sizeof j->name);
  g_mutex_lock (&lock);
  g_hash_table_insert (jbs, e, j);
  g_mutex_unlock (&lock);
  g_object_weak_ref (G_OBJECT (e), on_gone, NULL);
}

static Jb *
find (gpointer e)
{
  Jb *j;
  g_mutex_lock (&lock);
  j = g_hash_table_lookup (jbs, e);
  g_mutex_unlock (&lock);
  return j;
}

static void
on_state_post (GstTracer *t, guint64 ts, GstElement *e, GstStateChange tr, GstStateChangeReturn r)
{
  Jb *j = find (e);
  GstObject *p;
  int pt = -1;
  if (j == NULL) return;
  p = GST_OBJECT_PARENT (e);
  if (p != NULL) pt = GST_STATE_TARGET (p);
  g_strlcpy (j->name, GST_OBJECT_NAME (e), sizeof j->name);
  add (j, 'S', tr, r, pt, ts);
}

static void
on_chain_post (GstTracer *t, guint64 ts, GstPad *pad, GstFlowReturn res)
{
  GstObject *p = GST_OBJECT_PARENT (pad);
  Jb *j;
  if (p == NULL || G_OBJECT_TYPE (p) != jb_type) return;
  if (g_strcmp0 (GST_OBJECT_NAME (pad), "sink_rtcp") != 0) return;
  j = find (p);
  if (j == NULL) return;
  add (j, 'R', res, GST_STATE (p), GST_STATE_TARGET (p), ts);
}

static void
on_pad_added (GstTracer *t, guint64 ts, GstElement *e, GstPad *pad)
{
  Jb *j = find (e);
  if (j == NULL || g_strcmp0 (GST_OBJECT_NAME (pad), "sink_rtcp") != 0) return;
  add (j, 'P', 0, GST_STATE (e), GST_STATE_TARGET (e), ts);
}

static void
at_exit (void)
{
  GHashTableIter it;
  gpointer k, v;
  g_mutex_lock (&lock);
  g_hash_table_iter_init (&it, jbs);
  while (g_hash_table_iter_next (&it, &k, &v))
    out (v, "ALIVE-AT-EXIT");
  g_mutex_unlock (&lock);
}

static void
pl_jb_init (PlJb *self)
{
  GstTracer *t = GST_TRACER (self);
  GstElementFactory *factory = gst_element_factory_find ("rtpjitterbuffer");
  GstPluginFeature *loaded = NULL;

  /* The factory knows its element's type once its plugin is loaded. */
  if (factory != NULL)
    loaded = gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory));
  if (loaded != NULL)
    jb_type = gst_element_factory_get_element_type (GST_ELEMENT_FACTORY (loaded));
  else
    g_warning ("pljb: no rtpjitterbuffer element; nothing will be traced");
  g_clear_object (&loaded);
  g_clear_object (&factory);
  jbs = g_hash_table_new (NULL, NULL);
  gst_tracing_register_hook (t, "element-new", G_CALLBACK (on_new));
  gst_tracing_register_hook (t, "element-change-state-post", G_CALLBACK (on_state_post));
  gst_tracing_register_hook (t, "pad-chain-post", G_CALLBACK (on_chain_post));
  gst_tracing_register_hook (t, "element-add-pad", G_CALLBACK (on_pad_added));
  atexit (at_exit);
}

static void pl_jb_class_init (PlJbClass *klass) {}

static gboolean
plugin_init (GstPlugin *plugin)
{
  return gst_tracer_register (plugin, "pljb", pl_jb_get_type ());
}

#define PACKAGE "pljb"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, pljb, "jitterbuffer history", plugin_init, "1.0", "LGPL", "pljb", "local")
