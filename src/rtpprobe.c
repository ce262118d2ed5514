/* rtpprobe: the agent-side media probe. */
#include "cli.h"

int main(int argc, char **argv)
{
    return rp_cli_main(argc, argv);
}
