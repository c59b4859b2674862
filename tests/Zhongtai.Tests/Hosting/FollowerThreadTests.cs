using Zhongtai.Hosting;

namespace Zhongtai.Tests.Hosting;

public sealed class FollowerThreadTests
{
    [Fact]
    public async Task Start_RunsTheBodyOnItsOwnNamedBackgroundThread()
    {
        string? name = null;
        var background = false;
        var pool = true;
        await FollowerThread.Start("zt test follower", () =>
        {
            name = Thread.CurrentThread.Name;
            background = Thread.CurrentThread.IsBackground;
            pool = Thread.CurrentThread.IsThreadPoolThread;
        });
        Assert.Equal("zt test follower", name);
        Assert.True(background); // never keeps the process alive
        Assert.False(pool); // a burst of events never holds a pool thread
    }

    [Fact]
    public async Task Start_HandsWhatTheBodyThrowsToTheTask_AndWaitRethrowsACancellation()
    {
        var failed = FollowerThread.Start("zt test follower", () => throw new InvalidDataException("broken"));
        await Assert.ThrowsAsync<InvalidDataException>(() => failed);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var cancelled = FollowerThread.Start("zt test follower", () => FollowerThread.Wait(Task.Delay(Timeout.Infinite, cancel.Token)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }
}
