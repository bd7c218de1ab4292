/* pl-protocol.c — being written */
