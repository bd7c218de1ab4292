/* pl-peer.c — being written */
