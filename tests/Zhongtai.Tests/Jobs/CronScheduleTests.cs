using Zhongtai.Jobs;

namespace Zhongtai.Tests.Jobs;

public class CronScheduleTests
{
    private static readonly DateTimeOffset Sunday = new(2026, 11, 22, 10, 17, 30, TimeSpan.Zero); // a Sunday

    [Theory]
    [InlineData("*/15 * * * *", "2026-11-22T10:30:00Z")]
    [InlineData("0 * * * *", "2026-11-22T11:00:00Z")]
    [InlineData("@hourly", "2026-11-22T11:00:00Z")]
    [InlineData("@daily", "2026-11-23T00:00:00Z")]
    [InlineData("30 2 * * *", "2026-11-23T02:30:00Z")]
    [InlineData("@weekly", "2026-11-29T00:00:00Z")]
    [InlineData("0 3 * * 1-5", "2026-11-23T03:00:00Z")]
    [InlineData("0 0 1 * *", "2026-12-01T00:00:00Z")]
    [InlineData("0 0 29 2 *", "2028-02-29T00:00:00Z")]
    [InlineData("0 12 1 * 0", "2026-11-22T12:00:00Z")] // day-of-month OR weekday
    public void Next_FindsTheFirstMatchAfter(string cron, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), CronSchedule.Parse(cron).Next(Sunday));

    [Fact]
    public void Next_IsStrictlyAfter()
    {
        var onTheHour = new DateTimeOffset(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(onTheHour.AddHours(1), CronSchedule.Parse("0 * * * *").Next(onTheHour));
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("60 * * * *")]
    [InlineData("5-1 * * * *")]
    [InlineData("x * * * *")]
    public void Parse_Invalid_IsAClearFormatError(string cron) => Assert.Throws<FormatException>(() => CronSchedule.Parse(cron));
}
