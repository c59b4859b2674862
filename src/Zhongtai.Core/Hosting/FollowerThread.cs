namespace Zhongtai.Hosting;

/// <summary>
/// Runs a follower loop (log → derived state: the serving catalog, the realtime models, the search index) on a thread
/// of its own, blocking on its waits. A follower applies bursts of thousands of events; on the thread pool it held a
/// pool thread for each burst, so requests queued behind it unless the pool kept many more threads than cores, and
/// those extra threads then time-slice the requests. With the followers off the pool, the runtime's minimum (one
/// thread per core) serves more requests at a lower p99 (docs/serving.md, "Speed, fourth pass").
/// </summary>
/// <remarks>
/// Running them at a lower OS priority (a Linux niceness of 5) was measured and not adopted: the scheduler then let
/// them fall 230,000–250,000 events behind the log under full load, and a thread inherits the niceness of the thread
/// that starts it, so a pool worker started from a follower would have run requests niced too.
/// </remarks>
public static class FollowerThread
{
    /// <summary>
    /// Starts <paramref name="body"/> on a new background thread named <paramref name="name"/>; the task completes when
    /// the body returns or throws. The body blocks on its waits (<see cref="Wait"/>): the thread is its own.
    /// </summary>
    public static Task Start(string name, Action body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                body();
                done.SetResult();
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Waits for <paramref name="task"/> on the calling (follower) thread; throws what the task threw.</summary>
    public static void Wait(Task task) => task.GetAwaiter().GetResult();
}
