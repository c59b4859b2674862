using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Zhongtai.Events;
using Zhongtai.Lake;

namespace Zhongtai.Tests.Lake;

public sealed class LakeExporterTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Export_EventsOverSeveralDays_CountsPerPartitionMatchDuckDb()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(5_000, hours: 60);
        // Many partitions: skip fsync (durability is not what this test checks, and fsync is slow on shared disks).
        var result = new LakeExporter(new LakeExportOptions { FlushToDisk = false }, Time).Export(dir.Path, events);

        var expected = events
            .GroupBy(x => (Date: x.Event.Timestamp.UtcDateTime.Date, x.Event.Timestamp.UtcDateTime.Hour))
            .ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(5_000, result.Rows);
        Assert.Equal(expected.Count, result.Partitions);
        Assert.Equal(4_999, result.LastOffset);
        Assert.True(expected.Select(k => k.Key.Date).Distinct().Count() >= 3, "spans at least three days");

        using var lake = LakeQuery.Open(dir.Path);
        var rows = lake.Rows("SELECT date, hour, count(*) FROM events GROUP BY ALL ORDER BY ALL");
        Assert.Equal(expected.Count, rows.Count);
        foreach (var row in rows)
        {
            var date = ((DateOnly)row[0]!).ToDateTime(TimeOnly.MinValue);
            Assert.Equal(expected[(date, Convert.ToInt32(row[1], CultureInfo.InvariantCulture))], (long)row[2]!);
        }

        // Every row landed in the partition of its own timestamp.
        Assert.Equal(0L, lake.Scalar<long>(
            "SELECT count(*) FROM events WHERE date <> CAST(ts AT TIME ZONE 'UTC' AS DATE) OR hour <> hour(ts AT TIME ZONE 'UTC')"));

        // Files follow the layout and carry their offsets in their names.
        var files = Directory.GetFiles(LakeLayout.EventsDir(dir.Path), "*.parquet", SearchOption.AllDirectories);
        Assert.Equal(result.Files, files.Length);
        // Out-of-order timestamps over more hours than open files still give one file per partition.
        Assert.Equal(result.Partitions, result.Files);
        Assert.All(files, f => Assert.Matches(@"date=\d{4}-\d{2}-\d{2}[/\\]hour=\d{2}[/\\]part-\d+-\d+\.parquet$", f));

        var checkpoint = LakeExporter.ReadCheckpoint(dir.Path);
        Assert.Equal(4_999, checkpoint.LastOffset);
        Assert.Equal(5_000, checkpoint.TotalRows);
        Assert.Equal(Time.GetUtcNow(), checkpoint.UpdatedAt);
    }

    [Fact]
    public void Export_TimeOrderedLog_WritesFinishedHoursOutEarly()
    {
        var events = LakeTestData.Events(6_000, hours: 6).Select(x => x.Event).OrderBy(e => e.Timestamp)
            .Select((e, i) => ((long)i, e)).ToList();

        using var dir = new TempDir();
        var result = new LakeExporter(new LakeExportOptions { IdleFlushRows = 200, FlushToDisk = false }, Time).Export(dir.Path, events);

        // About one hour (1,000 rows) plus the idle window is ever buffered, not the whole range...
        Assert.InRange(result.PeakBufferedRows, 1_000, 2_600);
        Assert.Equal(6, result.Files);
        using (var lake = LakeQuery.Open(dir.Path))
        {
            Assert.Equal(6_000L, lake.Scalar<long>("SELECT count(DISTINCT \"offset\") FROM events"));
            // ...and each finished hour still went out as one row group.
            Assert.Equal(6L, lake.Scalar<long>(
                $"SELECT count(*) FROM parquet_metadata('{LakeLayout.EventsDir(dir.Path)}/**/*.parquet') WHERE column_id = 0"));
        }

        // Without idle flushing everything waits for the commit.
        using var control = new TempDir();
        var held = new LakeExporter(new LakeExportOptions { IdleFlushRows = int.MaxValue, FlushToDisk = false }, Time).Export(control.Path, events);
        Assert.Equal(6_000, held.PeakBufferedRows);
    }

    [Fact]
    public void Export_RerunSameRange_ExportsNothingNew()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(1_000, hours: 5);
        var exporter = new LakeExporter(time: Time);
        exporter.Export(dir.Path, events);
        var filesBefore = Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories).Order().ToArray();

        var again = exporter.Export(dir.Path, events);

        Assert.Equal(0, again.Rows);
        Assert.Equal(0, again.Files);
        Assert.Equal(1_000, again.Skipped);
        Assert.Equal(999, again.LastOffset);
        Assert.Equal(filesBefore, Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories).Order().ToArray());
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(1_000L, lake.Scalar<long>("SELECT count(*) FROM events"));
    }

    [Fact]
    public void Export_LogGrows_ContinuesFromCheckpointWithoutDuplicates()
    {
        using var dir = new TempDir();
        var all = LakeTestData.Events(3_000, hours: 10);
        var exporter = new LakeExporter(time: Time);

        var first = exporter.Export(dir.Path, all.Take(1_200));
        var second = exporter.Export(dir.Path, all); // the whole log again: only the tail is new

        Assert.Equal(1_199, first.LastOffset);
        Assert.Equal(1_800, second.Rows);
        Assert.Equal(1_200, second.Skipped);
        Assert.Equal(2_999, second.LastOffset);
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(3_000L, lake.Scalar<long>("SELECT count(*) FROM events"));
        Assert.Equal(3_000L, lake.Scalar<long>("SELECT count(DISTINCT \"offset\") FROM events"));
        Assert.Equal(2_999L, lake.Scalar<long>("SELECT max(\"offset\") FROM events"));
        Assert.Equal(3_000L, LakeExporter.ReadCheckpoint(dir.Path).TotalRows);
    }

    [Fact]
    public void Export_TinyBuffersAndFewOpenFiles_WritesEveryRowOnceAcrossCommits()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(2_000, hours: 12);
        var options = new LakeExportOptions { RowGroupSize = 16, MaxBufferedRows = 40, MaxOpenFiles = 3, CommitEveryRows = 500, FlushToDisk = false };

        var result = new LakeExporter(options, Time).Export(dir.Path, events);

        Assert.Equal(4, result.Commits);
        Assert.True(result.Files > result.Partitions, "evicting open files splits partitions into several parts");
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(2_000L, lake.Scalar<long>("SELECT count(DISTINCT \"offset\") FROM events"));
        Assert.Equal(2_000L, lake.Scalar<long>("SELECT count(*) FROM events"));
        // Row groups are bounded by RowGroupSize.
        Assert.True(lake.Scalar<long>(
            $"SELECT max(row_group_num_rows) FROM parquet_metadata('{LakeLayout.EventsDir(dir.Path)}/**/*.parquet')") <= 16);
        // Each part's name gives the first and last offset it holds.
        foreach (var row in lake.Rows("SELECT filename, min(\"offset\"), max(\"offset\") FROM read_parquet($1, filename = true) GROUP BY ALL",
            Path.Combine(LakeLayout.EventsDir(dir.Path), "**", "*.parquet")))
        {
            Assert.True(LakeLayout.TryParsePartFileName(Path.GetFileName((string)row[0]!), out long a, out long b));
            Assert.Equal((a, b), ((long)row[1]!, (long)row[2]!));
        }
    }

    [Fact]
    public void Export_AfterCrash_TempFilesAndUncommittedPartsAreRemovedAndNeverRead()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(1_000, hours: 4);
        var exporter = new LakeExporter(time: Time);
        exporter.Export(dir.Path, events.Take(600));

        // A crash mid-export: a half-written temp file, and a finished part renamed into place before the
        // checkpoint moved (its offsets are past the checkpoint).
        var partition = Path.Combine(LakeLayout.EventsDir(dir.Path), LakeLayout.PartitionPath(LakeLayoutHour(events[700].Event.Timestamp)));
        Directory.CreateDirectory(partition);
        var temp = Path.Combine(partition, ".part-600-600.parquet.tmp");
        File.WriteAllBytes(temp, [0x50, 0x41, 0x52, 0x31, 1, 2, 3]);
        var stale = Path.Combine(partition, LakeLayout.PartFileName(600, 650));
        var crashedDir = Path.Combine(dir.Path, "crashed");
        new LakeExporter(time: Time).Export(crashedDir, events.Skip(600).Take(51).Select(x => x));
        File.Copy(Directory.GetFiles(crashedDir, "*.parquet", SearchOption.AllDirectories)[0], stale);
        Directory.Delete(crashedDir, recursive: true);

        using (var lake = LakeQuery.Open(dir.Path))
        {
            // Readers bound by the checkpoint never see the uncommitted part.
            Assert.Equal(600L, lake.Scalar<long>("SELECT count(*) FROM events"));
        }

        var result = exporter.Export(dir.Path, events);

        Assert.False(File.Exists(temp));
        Assert.False(File.Exists(stale));
        Assert.Equal(400, result.Rows);
        using var after = LakeQuery.Open(dir.Path);
        Assert.Equal(1_000L, after.Scalar<long>("SELECT count(*) FROM events"));
        Assert.Equal(1_000L, after.Scalar<long>("SELECT count(DISTINCT \"offset\") FROM events"));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Export_Cancelled_LeavesNoFileAndKeepsCheckpoint()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(2_000, hours: 3);
        var exporter = new LakeExporter(new LakeExportOptions { RowGroupSize = 100 }, Time);
        exporter.Export(dir.Path, events.Take(500));
        using var cts = new CancellationTokenSource();

        IEnumerable<(long, Event)> CancelHalfway()
        {
            foreach (var x in events)
            {
                if (x.Offset == 1_500)
                {
                    cts.Cancel();
                }

                yield return x;
            }
        }

        Assert.ThrowsAny<OperationCanceledException>(() => exporter.Export(dir.Path, CancelHalfway(), cts.Token));

        Assert.Equal(499, LakeExporter.ReadCheckpoint(dir.Path).LastOffset);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(500L, lake.Scalar<long>("SELECT count(*) FROM events"));
    }

    [Fact]
    public void Export_OffsetsGoBackwardsAfterACommit_ThrowsAndKeepsTheCommit()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(300, hours: 2);
        var replayed = events.Take(200).Concat(events.Skip(50)).ToList(); // offset 50 again after 199
        var exporter = new LakeExporter(new LakeExportOptions { CommitEveryRows = 100 }, Time);

        Assert.Throws<ArgumentException>(() => exporter.Export(dir.Path, replayed));

        Assert.Equal(199, LakeExporter.ReadCheckpoint(dir.Path).LastOffset);
        using var lake = LakeQuery.Open(dir.Path);
        Assert.Equal(200L, lake.Scalar<long>("SELECT count(DISTINCT \"offset\") FROM events"));
        Assert.Equal(200L, lake.Scalar<long>("SELECT count(*) FROM events"));
    }

    [Fact]
    public void Export_OffsetsGoBackwards_Throws()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(10, hours: 1);
        events.Reverse();
        Assert.Throws<ArgumentException>(() => new LakeExporter(time: Time).Export(dir.Path, events));
        Assert.Equal(-1, LakeExporter.ReadCheckpoint(dir.Path).LastOffset);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public void Export_WhileAnotherExportHoldsTheLock_Throws()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(100, hours: 1);
        var exporter = new LakeExporter(time: Time);
        bool inner = false;

        IEnumerable<(long, Event)> Nested()
        {
            // While the first export iterates its input, a second export of the same lake must be refused.
            var e = Assert.Throws<LakeException>(() => exporter.Export(dir.Path, events));
            Assert.Contains("lock", e.Message, StringComparison.Ordinal);
            inner = true;
            foreach (var x in events)
            {
                yield return x;
            }
        }

        var result = exporter.Export(dir.Path, Nested());
        Assert.True(inner);
        Assert.Equal(100, result.Rows);
    }

    [Fact]
    public void Export_CheckpointLostButPartsPresent_RefusesAndDeletesNothing()
    {
        using var dir = new TempDir();
        var events = LakeTestData.Events(300, hours: 2);
        var exporter = new LakeExporter(time: Time);
        exporter.Export(dir.Path, events);
        File.Delete(LakeLayout.CheckpointPath(dir.Path));
        var files = Directory.GetFiles(dir.Path, "*.parquet", SearchOption.AllDirectories);

        var e = Assert.Throws<LakeException>(() => exporter.Export(dir.Path, events));

        Assert.Contains("no export checkpoint", e.Message, StringComparison.Ordinal);
        Assert.All(files, f => Assert.True(File.Exists(f)));
    }

    [Fact]
    public void Layout_PartitionOfTimestamp_IsUtcDateAndHour()
    {
        var ts = new DateTimeOffset(2026, 3, 1, 0, 30, 0, TimeSpan.FromHours(8)); // 2026-02-28 16:30 UTC
        Assert.Equal(Path.Combine("date=2026-02-28", "hour=16"), LakeLayout.PartitionPath(LakeLayoutHour(ts)));
        Assert.Equal(Path.Combine("date=1969-12-31", "hour=23"), LakeLayout.PartitionPath(LakeLayoutHour(DateTimeOffset.UnixEpoch.AddMinutes(-1))));
    }

    private static long LakeLayoutHour(DateTimeOffset ts) => LakeLayout.HourKey(ts);
}
