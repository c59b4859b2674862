using System.Globalization;

namespace Zhongtai.Jobs;

/// <summary>
/// A five-field cron expression (minute hour day-of-month month day-of-week, UTC) with <c>*</c>, lists, ranges
/// and steps (<c>*/15</c>, <c>1-5</c>, <c>0,30</c>), and the shorthands <c>@hourly</c>, <c>@daily</c>, <c>@weekly</c>.
/// As in Vixie cron, when both day fields are restricted a day matches either.
/// </summary>
public sealed class CronSchedule
{
    private readonly bool[] _minutes = new bool[60];
    private readonly bool[] _hours = new bool[24];
    private readonly bool[] _days = new bool[32];
    private readonly bool[] _months = new bool[13];
    private readonly bool[] _weekdays = new bool[7];
    private readonly bool _daysRestricted;
    private readonly bool _weekdaysRestricted;

    private CronSchedule(string expression)
    {
        Expression = expression;
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            throw new FormatException($"Cron '{expression}' needs 5 fields (minute hour day month weekday), or @hourly/@daily/@weekly.");
        }

        Fill(_minutes, fields[0], 0, 59, expression);
        Fill(_hours, fields[1], 0, 23, expression);
        Fill(_days, fields[2], 1, 31, expression);
        Fill(_months, fields[3], 1, 12, expression);
        Fill(_weekdays, fields[4].Replace('7', '0'), 0, 6, expression);
        _daysRestricted = fields[2] != "*";
        _weekdaysRestricted = fields[4] != "*";
    }

    public string Expression { get; }

    public static CronSchedule Parse(string expression) => expression.Trim() switch
    {
        "@hourly" => new CronSchedule("0 * * * *"),
        "@daily" or "@midnight" => new CronSchedule("0 0 * * *"),
        "@weekly" => new CronSchedule("0 0 * * 0"),
        var e => new CronSchedule(e),
    };

    /// <summary>The first matching minute strictly after <paramref name="after"/> (UTC).</summary>
    public DateTimeOffset Next(DateTimeOffset after)
    {
        var t = after.ToUniversalTime();
        t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero).AddMinutes(1);
        for (var guard = 0; guard < 60 * 24 * 366 * 5; guard++)
        {
            if (!_months[t.Month])
            {
                t = new DateTimeOffset(t.Year, t.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
                continue;
            }

            if (!DayMatches(t))
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero).AddDays(1);
                continue;
            }

            if (!_hours[t.Hour])
            {
                t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
                continue;
            }

            if (!_minutes[t.Minute])
            {
                t = t.AddMinutes(1);
                continue;
            }

            return t;
        }

        throw new InvalidOperationException($"Cron '{Expression}' never fires.");
    }

    private bool DayMatches(DateTimeOffset t)
    {
        var day = _days[t.Day];
        var weekday = _weekdays[(int)t.DayOfWeek];
        return (_daysRestricted, _weekdaysRestricted) switch
        {
            (true, true) => day || weekday,
            (true, false) => day,
            (false, true) => weekday,
            _ => true,
        };
    }

    private static void Fill(bool[] set, string field, int min, int max, string expression)
    {
        foreach (var part in field.Split(','))
        {
            var step = 1;
            var range = part;
            var slash = part.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                step = Number(part[(slash + 1)..], 1, max, expression);
                range = part[..slash];
            }

            int lo, hi;
            if (range == "*")
            {
                (lo, hi) = (min, max);
            }
            else if (range.IndexOf('-', StringComparison.Ordinal) is var dash and > 0)
            {
                (lo, hi) = (Number(range[..dash], min, max, expression), Number(range[(dash + 1)..], min, max, expression));
            }
            else
            {
                lo = Number(range, min, max, expression);
                hi = slash >= 0 ? max : lo;
            }

            if (lo > hi)
            {
                throw new FormatException($"Cron '{expression}': range {range} is empty.");
            }

            for (var v = lo; v <= hi; v += step)
            {
                set[v] = true;
            }
        }
    }

    private static int Number(string text, int min, int max, string expression) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new FormatException($"Cron '{expression}': '{text}' is not a number in {min}..{max}.");
}
