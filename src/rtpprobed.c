/* rtpprobed: the media-host side of rtpprobe. */
#include "daemon_cli.h"

int main(int argc, char **argv)
{
    return rp_daemon_main(argc, argv);
}
