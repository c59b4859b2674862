using System.Globalization;
using Zhongtai.Events;
using Zhongtai.Risk;

namespace Zhongtai.Tests.Risk;

/// <summary>Each rule fires on its pattern planted in honest traffic, and quarantines nothing honest.</summary>
public sealed class AntiCheatRuleTests
{
    private static string S(int i) => i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Runs the scenario; asserts nothing honest is quarantined and <paramref name="expected"/> all carry <paramref name="rule"/>.</summary>
    private static (RiskReport Report, Dictionary<string, string[]> Quarantine) AssertRule(RiskScenario s, string rule, IEnumerable<Event> expected, AntiCheatOptions? options = null)
    {
        s.Export();
        var (report, quarantine) = s.Run(options);
        var honest = quarantine.Keys.Where(id => !id.StartsWith("x-", StringComparison.Ordinal)).ToList();
        Assert.True(honest.Count == 0, $"honest events quarantined: {string.Join(", ", honest.Take(5))} ({string.Join(";", honest.Take(5).Select(h => string.Join(",", quarantine[h])))})");
        var expectedIds = expected.Select(e => e.Id!).ToList();
        Assert.NotEmpty(expectedIds);
        foreach (var id in expectedIds)
        {
            Assert.True(quarantine.TryGetValue(id, out var rules) && rules.Contains(rule), $"{id} not flagged by {rule}");
        }

        Assert.True(report.Rules.Single(r => r.Rule == rule).Events >= expectedIds.Count);
        return (report, quarantine);
    }

    [Fact]
    public void HonestTraffic_QuarantinesNothing()
    {
        using var s = new RiskScenario();
        s.Export();
        var (report, quarantine) = s.Run();
        Assert.Empty(quarantine);
        Assert.Equal(0, report.EventsQuarantined);
        Assert.Equal(0, report.UsersFlagged);
        Assert.True(report.BehaviourEvents > 1_000);
    }

    [Fact]
    public void UserRate_FlagsAnAccountClickingEverySecond_AndAllItsEvents()
    {
        using var s = new RiskScenario();
        var earlier = s.ExposedClick("bot-1", "i-1", s.Noon.AddHours(-3));
        for (int i = 0; i < 50; i++)
        {
            s.ExposedClick("bot-1", "i-" + S(i + 2), s.Noon.AddSeconds(i));
        }

        var (_, q) = AssertRule(s, "user_rate", s.Planted);
        Assert.Contains("user_rate", q[earlier.Id!]);
    }

    [Fact]
    public void DeviceRate_FlagsTheBurstOfASharedDevice_NotTheAccounts()
    {
        using var s = new RiskScenario();
        var burst = new List<Event>();
        var calm = s.ExposedClick("dev-user-0", "i-9", s.Noon.AddHours(-5), device: "shared-phone");
        for (int u = 0; u < 3; u++)
        {
            for (int i = 0; i < 25; i++)
            {
                burst.Add(s.ExposedClick("dev-user-" + S(u), "i-" + S(100 + 25 * u + i), s.Noon.AddSeconds(2 * i + 0.5 * u), device: "shared-phone"));
            }
        }

        var (_, q) = AssertRule(s, "device_rate", burst);
        Assert.False(q.ContainsKey(calm.Id!));
    }

    [Fact]
    public void IpRate_FlagsTheBurstOfOneIp()
    {
        using var s = new RiskScenario();
        var burst = new List<Event>();
        for (int u = 0; u < 12; u++)
        {
            for (int i = 0; i < 28; i++)
            {
                burst.Add(s.ExposedClick("ip-user-" + S(u), "i-" + S(1 + (u * 28 + i) % 190), s.Noon.AddSeconds(2 * i + 0.1 * u), ip: "100.64.0.1"));
            }
        }

        AssertRule(s, "ip_rate", burst);
    }

    [Fact]
    public void ClickWithoutExposure_FlagsAClickItsRequestNeverExposed()
    {
        using var s = new RiskScenario();
        s.Add(EventTypes.Exposure, "u-3", "i-5", s.Noon, "xr-a");
        var wrongItem = s.Add(EventTypes.Click, "u-3", "i-6", s.Noon.AddSeconds(3), "xr-a");
        var neverServed = s.Add(EventTypes.Click, "u-3", "i-7", s.Noon.AddSeconds(4), "xr-never");
        var exposedLater = s.Add(EventTypes.Click, "u-3", "i-8", s.Noon.AddSeconds(5), "xr-b");
        s.Add(EventTypes.Exposure, "u-3", "i-8", s.Noon.AddMinutes(5), "xr-b");
        var fine = s.Add(EventTypes.Click, "u-3", "i-5", s.Noon.AddSeconds(6), "xr-a");

        var (_, q) = AssertRule(s, "click_without_exposure", [wrongItem, neverServed, exposedLater]);
        Assert.False(q.ContainsKey(fine.Id!));
    }

    [Fact]
    public void Duplicate_FlagsTheCopies_NotTheOriginal()
    {
        using var s = new RiskScenario();
        var original = s.ExposedClick("u-4", "i-9", s.Noon);
        var copies = Enumerable.Range(1, 4)
            .Select(k => s.Add(EventTypes.Click, "u-4", "i-9", original.Timestamp.AddMilliseconds(5 * k), original.RequestId, original.Device, original.Ip, original.UserAgent))
            .ToList();

        var (_, q) = AssertRule(s, "duplicate", copies);
        Assert.False(q.ContainsKey(original.Id!));
    }

    [Fact]
    public void CtrOutlier_FlagsAnAccountThatClicksMostOfWhatItSees()
    {
        using var s = new RiskScenario();
        for (int i = 0; i < 80; i++)
        {
            var t = s.Noon.AddMinutes(-600 + 7 * i);
            if (i % 4 == 3)
            {
                s.Add(EventTypes.Exposure, "clicky", "i-" + S(i + 1), t, "xr-c" + S(i));
            }
            else
            {
                s.ExposedClick("clicky", "i-" + S(i + 1), t);
            }
        }

        AssertRule(s, "ctr_outlier", s.Planted);
    }

    [Fact]
    public void InhumanDwell_FlagsImpossibleDwellValues()
    {
        using var s = new RiskScenario();
        var tooShort = s.ExposedClick("u-5", "i-3", s.Noon, dwell: 0.2);
        var tooLong = s.ExposedClick("u-5", "i-4", s.Noon.AddMinutes(3), dwell: 50_000);
        var dwellEvents = s.Planted.Where(e => e.Type == EventTypes.Dwell).ToList();

        var (_, q) = AssertRule(s, "inhuman_dwell", dwellEvents);
        Assert.False(q.ContainsKey(tooShort.Id!));
        Assert.False(q.ContainsKey(tooLong.Id!));
    }

    [Fact]
    public void ShortDwellUser_FlagsAnAccountThatNeverReads()
    {
        using var s = new RiskScenario();
        for (int i = 0; i < 12; i++)
        {
            s.ExposedClick("skimmer", "i-" + S(i + 1), s.Noon.AddMinutes(-300 + 20 * i), dwell: 2.5);
        }

        AssertRule(s, "short_dwell_user", s.Planted);
    }

    [Theory]
    [InlineData("coordinated_device")]
    [InlineData("coordinated_ip")]
    public void Coordination_FlagsAccountsSharingADeviceOrIpOnTheSameItems(string rule)
    {
        using var s = new RiskScenario();
        for (int u = 0; u < 4; u++)
        {
            for (int i = 0; i < 4; i++)
            {
                var t = s.Noon.AddMinutes(15 * u + 3 * i);
                string user = "ring-" + S(u), item = "i-" + S(40 + i);
                if (rule == "coordinated_device")
                {
                    s.ExposedClick(user, item, t, device: "ring-device", ip: "100.64.1." + S(u));
                }
                else
                {
                    s.ExposedClick(user, item, t, ip: "100.64.2.7");
                }
            }
        }

        AssertRule(s, rule, s.Planted);
    }

    [Fact]
    public void BotUserAgent_FlagsScriptedTraffic_CaseInsensitive()
    {
        using var s = new RiskScenario();
        s.ExposedClick("scripted", "i-3", s.Noon, userAgent: "Python-Requests/2.31");
        s.ExposedClick("scripted", "i-4", s.Noon.AddMinutes(2), userAgent: "Python-Requests/2.31");

        var (report, _) = AssertRule(s, "bot_user_agent", s.Planted);
        Assert.Equal(1, report.Rules.Single(r => r.Rule == "bot_user_agent_account").Entities);
    }

    [Fact]
    public void PromotesFlaggedItems_FlagsAnAccountOnItsOwnDeviceThatPushesTheRingsItems()
    {
        using var s = new RiskScenario();
        for (int u = 0; u < 5; u++)
        {
            for (int i = 0; i < 4; i++)
            {
                var click = s.ExposedClick("ring-" + S(u), "i-" + S(60 + i), s.Noon.AddMinutes(10 * u + 2 * i), device: "ring-device");
                s.Add(EventTypes.Like, click.UserId!, click.ItemId!, click.Timestamp.AddSeconds(40), click.RequestId, click.Device, click.Ip, click.UserAgent);
            }
        }

        var helperClicks = new List<Event>();
        for (int i = 0; i < 6; i++)
        {
            helperClicks.Add(s.ExposedClick("helper", "i-" + S(60 + i % 4), s.Noon.AddHours(3).AddMinutes(9 * i)));
        }

        var (report, q) = AssertRule(s, "promotes_flagged_items", helperClicks);
        Assert.Equal(4, report.ItemsFlagged);
        Assert.DoesNotContain("coordinated_device", q[helperClicks[0].Id!]);
    }
}
