using Zhongtai.Hosting;

namespace Zhongtai.Tests.Hosting;

public sealed class FollowerThreadTests
{
    [Fact]
    public async Task Start_RunsTheBodyOnItsOwnNamedThread_AtTheGivenNiceness()
    {
        int? niceness = null;
        string? name = null;
        var caller = Environment.CurrentManagedThreadId;
        var thread = -1;
        await FollowerThread.Start("zt test follower", 7, () =>
        {
            niceness = FollowerThread.CurrentNiceness();
            name = Thread.CurrentThread.Name;
            thread = Environment.CurrentManagedThreadId;
        });
        Assert.Equal("zt test follower", name);
        Assert.NotEqual(caller, thread);
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(7, niceness);
        }
    }

    [Fact]
    public async Task Start_HandsWhatTheBodyThrowsToTheTask_AndWaitRethrowsACancellation()
    {
        var failed = FollowerThread.Start("zt test follower", 0, () => throw new InvalidDataException("broken"));
        await Assert.ThrowsAsync<InvalidDataException>(() => failed);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var cancelled = FollowerThread.Start("zt test follower", 0, () => FollowerThread.Wait(Task.Delay(Timeout.Infinite, cancel.Token)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = FollowerThread.Start("x", 20, () => { }); });
    }
}
