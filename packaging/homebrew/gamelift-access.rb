# Homebrew formula for gamelift-access, built from source with cargo.
#
# This is the formula's source. `packaging/build-release.sh --source [URL]`
# makes the release's source tarball (dist/gamelift-access-<version>.tar.gz)
# and renders the formula to publish in a tap, dist/homebrew/gamelift-access.rb,
# with @SOURCE_URL@ and @SOURCE_SHA256@ filled in: the URL the tarball will be
# downloaded from, and its SHA-256.
class GameliftAccess < Formula
  desc "One command onto an Amazon GameLift fleet instance: ssh, RDP or SSM"
  homepage "@HOMEPAGE@"
  url "@SOURCE_URL@"
  sha256 "@SOURCE_SHA256@"
  license "Apache-2.0"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    generate_completions_from_executable(bin/"gamelift-access", "completions")
    (man1/"gamelift-access.1").write Utils.safe_popen_read(bin/"gamelift-access", "manpage")
  end

  # `brew services start gamelift-access`: the ssh-agent that keeps instance
  # keys in memory (see README, "The agent").
  service do
    run [opt_bin/"gamelift-access", "agent", "run"]
    keep_alive true
  end

  test do
    assert_match "gamelift-access #{version}", shell_output("#{bin}/gamelift-access --version")
    assert_match ".TH gamelift-access 1", (man1/"gamelift-access.1").read
    assert_predicate bash_completion/"gamelift-access", :exist?
    # A malformed instance reference is refused before any AWS call, exit 64.
    output = shell_output("#{bin}/gamelift-access connect my-fleet not/an/instance 2>&1", 64)
    assert_match "not an instance reference", output
  end
end
