"""Words for the demo site's forum, comment embed and discussion threads, written for this project.

Replies are assembled from these lines deterministically (no randomness at import), so every run of the
demo serves the same threads.
"""
from __future__ import annotations

FORUM_NAME = "Ledger Commons"
FORUM_USERS = ["neo_nomad", "gas_station", "policywonk", "blockfern", "satstacker", "dora_dev", "mint_condition",
               "ledgerlark", "coldwallet_kai", "orbit_ops", "hashbrown", "quietnode", "papertrail", "vesting_vic",
               "oracle_ana", "tallyho"]

# Lines of forum chatter (NEO, governance, blockchain policy). Each reply uses one or two of them.
CHATTER = [
    "The NEO council vote happened faster than I expected, which tells me the delegates had this planned for weeks.",
    "Honestly the part about exchange liquidity worries me more than the headline. Thin books make every rumour look like a crash.",
    "Does anyone have the actual text of the proposal? Every summary I read leaves out the voting threshold.",
    "I ran a consensus node for two years and the hardware requirements are the least of the problems; the coordination is harder.",
    "Policy people keep asking for a single contact point at each foundation. I do not think that maps onto how open networks work.",
    "GAS fees barely moved during the whole episode, so whatever panic there was did not reach the chain itself.",
    "The regulators in the story sound reasonable to me. They asked questions instead of freezing anything.",
    "Every cycle we get a new consultation paper and every cycle the definitions of custody change a little.",
    "People underestimate how much of this comes down to wallet software. Most users never see the protocol at all.",
    "If the upgrade really cuts block time again, the dApp teams will need to retest everything they shipped last year.",
    "I would love to see numbers on how many validators actually read governance proposals before voting.",
    "Small correction: the testnet ran for about six weeks, not three. The release notes say so in the second paragraph.",
    "There is a difference between a policy that is strict and one that is unclear. Builders can live with strict.",
    "My local exchange paused deposits for an afternoon and then quietly resumed. Nobody explained anything.",
    "The article is balanced, but the quote from the market maker is doing a lot of work without any data behind it.",
    "This is why I keep a spreadsheet of every incident. Memory makes each one feel bigger than the last.",
    "Interoperability bridges remain the weak point. The chains are fine; the glue between them is where money disappears.",
    "The tax angle is going to matter more than the technical one for most people reading this forum.",
    "I appreciate that the developers published a timeline instead of vague promises. That alone earns some trust.",
    "Is anyone tracking how the delegate rewards changed after the vote? I suspect that explains the turnout.",
    "Not financial advice, but I have seen this pattern before: a scary week, then everyone forgets by the next month.",
    "We discussed the licensing rules at our meetup and half the room thought they only applied to custodians.",
    "Open source governance always looks messy from the outside. Messy is not the same thing as broken.",
    "The policy draft mentions stablecoin reserves twice and never says who audits them. That seems like the key question.",
    "I switched my node to the new client version last night and sync time dropped noticeably.",
    "Good thread. I learned more here than from the three press releases combined.",
    "Careful with the screenshots going around; at least one of them is from a fake account.",
    "Lawmakers want transparency reports every quarter. Some of the smaller foundations will struggle with that workload.",
    "The fee spike on the other chains pushed a few projects to look at NEO again, which nobody predicted a year ago.",
    "I remain sceptical of any governance model where a handful of wallets can decide the outcome.",
    "Counterpoint: a small, accountable council can move faster than a thousand anonymous voters.",
    "Thanks, that link to the consultation answers my question about the reporting threshold.",
    "Whoever wrote the summary on the news site clearly read the whole proposal, which is rare these days.",
    "Agreed, and the same logic applies to oracle providers. They are infrastructure whether they like the label or not.",
    "Stepping back, the interesting story is how calm everyone stayed compared with the last incident.",
    "Please keep the discussion civil. Disagreeing about policy is fine, insults are not.",
]

REPLY_OPENERS = ["", "", "Fair point. ", "Hmm. ", "Exactly. ", "Not sure about that. ", "Quick thought: ", "Same here. "]
EDIT_SUFFIX = "Edit: fixed the date, thanks to everyone who pointed it out."
DELETED_BY_AUTHOR = "(post deleted by author)"

FOOTER_SITES = [("Chain Wire Partners", None), ("Markets Desk", "https://markets-desk.example/"),
                ("Policy Brief", "https://policy-brief.example/"), ("Node Operators Weekly", "https://node-weekly.example/")]

SMF_TITLE = "NEO council vote and what it means for node operators"
SMF_SIGNATURES = ["Running a node since the testnet days.", "Keys off exchanges. Always.",
                  "Opinions are my own, not my employer's.", ""]

DISQUS_SHORTNAME = "blockledger-demo"
REDDIT_SUBREDDIT = "cryptodemo"

# The founding example, in this project's own words: a news story (China's leader calling for the country to
# lead in blockchain) reposted on a forum with a bullet summary, then the body; five replies about NEO; a
# footer of sister-site links. Used by the demo forum's repost topics (forum_shapes.py) and the test fixtures.
SEED_STORY_URL = "https://abacus-news.example/tech/article/3034850/leader-wants-china-lead-blockchain"
SEED_STORY_HOST = "abacus-news.example"
SEED_CITED_URL = "https://neo-project.example/governance"
SEED_TITLE = "China's leader wants the country to take the lead in blockchain"
SEED_BULLETS = [
    "The head of state told a study session of senior officials that blockchain should become a core technology.",
    "Officials were asked to speed up research, set standards and train engineers.",
    "Shares of companies with blockchain projects rose sharply the next morning.",
]
SEED_BODY = [
    "At a study session for the ruling party's top officials, the country's leader described blockchain as an "
    "important breakthrough for independent innovation and said the nation should take the leading position "
    "in the field.",
    "He asked universities and companies to invest more in the basic research behind distributed ledgers and "
    "to help write international standards, so that the country has a voice in how the technology is governed.",
    "The remarks named finance, supply chains and public services as the first places to apply it, and warned "
    "against speculation dressed up as innovation.",
    "Local projects such as the NEO network were quick to point out that they already work with several city "
    "governments on pilot schemes.",
]
SEED_FOOTER = ["YEN", "DCTV", "Bitcoin Lambo", "10 Days of Bitcoin", "CEO's Brainpan"]
SEED_REPLIES = [  # (post number, user, reply_to_post_number, text)
    (2, "neo_nomad", None, "This is the biggest endorsement NEO could have hoped for without being named in the speech."),
    (3, "gas_station", 2, "Careful, NEO was named by the reporters, not by the speech. Still good for the ecosystem."),
    (4, "quietnode", 1, "Does anyone know whether the pilot schemes run on NEO mainnet or on a private fork?"),
    (5, "ledgerlark", 3, "Agreed, and the price already ran ahead of the news before the weekend."),
    (6, "orbit_ops", 4, "Private deployments as far as I know. The mainnet numbers did not move much."),
]
EMBED_REPLIES = [
    "Good write-up. The part about validator turnout matches what I saw on the explorer.",
    "I would like a follow-up on how the delegates were chosen in the first place.",
    "Posting here because the site's own comment box is this forum now.",
]
SMF_ENTRY_TITLES = {8: "Node operator checklist after the council vote",
                    9: "Fee estimates during the upgrade window",
                    10: "Archived: validator rewards before the change"}
