using System.Runtime.InteropServices;

namespace Zhongtai.Hosting;

/// <summary>
/// Runs a follower loop (log → derived state: the serving catalog, the realtime models, the search index) on a thread
/// of its own at a lower OS scheduling priority than the request threads. On a small machine the followers and the
/// requests share the cores; a follower applying a burst of exposures then delays the requests that wait for a core,
/// which is what the tail latency is made of. With a higher niceness the scheduler runs a waiting request first and
/// gives the followers the time left over (and, under overload, a share of about 1/(1.25^niceness) of a request
/// thread's), so they lag a little more under load and catch up when it eases. Niceness is a Linux notion
/// (<c>setpriority</c> on the thread); elsewhere the thread runs at the default priority (.NET's
/// <see cref="Thread.Priority"/> does nothing on Linux). Lowering a priority needs no privilege; raising it back does,
/// and a thread inherits the niceness of the thread that starts it — the thread pool may start a worker from whichever
/// thread queues work — so a niced follower can leave a pool thread niced too. Hence the default of 0.
/// </summary>
public static partial class FollowerThread
{
    /// <summary>
    /// Starts <paramref name="body"/> on a new background thread named <paramref name="name"/> at
    /// <paramref name="niceness"/> (0..19; 0 keeps the default); the task completes when the body returns or throws.
    /// The body blocks on its waits (<see cref="Wait"/>): the thread is its own.
    /// </summary>
    public static Task Start(string name, int niceness, Action body)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(niceness);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(niceness, 19);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Lower(niceness);
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

    /// <summary>The calling thread's niceness (Linux), or null where it cannot be read.</summary>
    public static int? CurrentNiceness()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Marshal.SetLastPInvokeError(0);
        var value = getpriority(PrioProcess, (uint)gettid());
        return value == -1 && Marshal.GetLastPInvokeError() != 0 ? null : value;
    }

    private static void Lower(int niceness)
    {
        if (niceness > 0 && OperatingSystem.IsLinux())
        {
            _ = setpriority(PrioProcess, (uint)gettid(), niceness); // best effort: a follower at the default priority still works
        }
    }

    private const int PrioProcess = 0; // with a thread id: that thread only (Linux)

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, uint who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, uint who);

    [LibraryImport("libc")]
    private static partial int gettid();
}
